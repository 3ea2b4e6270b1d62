#!/usr/bin/env bash
# ai-monitor start script: the deployment guide's interactive menu.
#
# Usage: ./start_monitoring.sh            interactive menu
#        ./start_monitoring.sh CHOICE [ARGS...]
#
#   1       start the monitoring server in the background (reused when one already answers)
#   2       start the demo client (realistic traffic; ARGS go to "ai-monitor demo")
#   3       open the real-time dashboard in a browser (or print its URL)
#   4       view monitoring data as text (ARGS go to "ai-monitor tail")
#   5       start the full environment: server + demo client + dashboard + text view;
#           Ctrl-C stops everything this choice started
#   s|stop  stop the server started by this script
#   status  say whether a server answers, and where
#   q       quit (menu)
#
# Settings (environment): AI_MONITOR_PORT (8765), AI_MONITOR_HOST (0.0.0.0),
# AI_MONITOR_DATA_DIR (monitoring_data), AI_MONITOR_TOKEN (token for the demo and text
# view; else the first of AI_MONITOR_INGEST_TOKENS / AI_MONITOR_READ_TOKENS /
# AI_MONITOR_ADMIN_TOKENS), AI_MONITOR_NO_BROWSER=1 (print the dashboard URL, open nothing),
# NODE (the node binary). The server's PID file and log are in the data directory
# (ai-monitor.pid, server.log; the demo of choice 5 logs to demo.log).
#
# Exit status: 0 done; 1 failed (port taken, server did not start, build failed);
#              2 bad usage.
set -euo pipefail

root="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
cd -- "$root"

readonly NODE_BIN="${NODE:-node}"
readonly CLI="$root/apps/api/dist/cli.js"
readonly PORT="${AI_MONITOR_PORT:-8765}"
readonly HOST="${AI_MONITOR_HOST:-0.0.0.0}"
readonly DATA_DIR="${AI_MONITOR_DATA_DIR:-monitoring_data}"
readonly PID_FILE="$DATA_DIR/ai-monitor.pid"
readonly LOG_FILE="$DATA_DIR/server.log"
readonly DEMO_LOG="$DATA_DIR/demo.log"
readonly SCRIPT="$0"

# Clients reach a server listening on every interface through loopback.
case "$HOST" in
  0.0.0.0 | "" | "::" | "[::]") client_addr="127.0.0.1" ;;
  *) client_addr="${HOST#[}" && client_addr="${client_addr%]}" ;;
esac
if [[ "$client_addr" == *:* ]]; then client_host="[$client_addr]"; else client_host="$client_addr"; fi
if [[ -n "${AI_MONITOR_TLS_CERT:-}" && -n "${AI_MONITOR_TLS_KEY:-}" ]]; then scheme="https"; else scheme="http"; fi
readonly URL="$scheme://$client_host:$PORT"

say() { printf '%s\n' "$*"; }
err() { printf 'start_monitoring: %s\n' "$*" >&2; }
die() {
  err "$*"
  exit 1
}
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }

check_settings() {
  if [[ ! "$PORT" =~ ^[0-9]+$ ]] || ((PORT < 1 || PORT > 65535)); then
    err "AI_MONITOR_PORT must be a port number from 1 to 65535, got '$PORT'"
    exit 2
  fi
}

need_node() {
  command -v "$NODE_BIN" >/dev/null 2>&1 || die "Node.js was not found (need 20.19+, 22.13+ or 24+; set NODE to its path)"
  "$NODE_BIN" -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit((a===20&&b>=19)||(a===22&&b>=13)||a>=24?0:1)' ||
    die "Node.js $("$NODE_BIN" --version) is not supported: ai-monitor needs 20.19+, 22.13+ or 24+"
}

# Builds when the CLI is missing (first run after npm install).
ensure_built() {
  need_node
  [[ -f "$CLI" ]] && return 0
  [[ -d node_modules ]] || die "dependencies are not installed: run 'npm install' first"
  say "building ai-monitor (first run; this takes a minute) ..."
  npm run build || die "the build failed (see above)"
  [[ -f "$CLI" ]] || die "the build did not produce $CLI"
}

run_cli() { "$NODE_BIN" "$CLI" "$@"; }

# The first token the server accepts for a scope: AI_MONITOR_TOKEN, else the scope's list,
# else the admin list.
token_for() {
  local list="$1"
  local t="${AI_MONITOR_TOKEN:-${list%%,*}}"
  if [[ -z "$t" ]]; then t="${AI_MONITOR_ADMIN_TOKENS:-}" && t="${t%%,*}"; fi
  printf '%s' "${t// /}"
}

# True when an ai-monitor server answers /health as healthy at $URL.
healthy() {
  local body
  if command -v curl >/dev/null 2>&1; then
    body="$(curl -ksS --max-time 2 "$URL/health" 2>/dev/null)" || return 1
  else
    body="$(NODE_TLS_REJECT_UNAUTHORIZED=0 "$NODE_BIN" -e '
      fetch(process.argv[1], { signal: AbortSignal.timeout(2000) })
        .then(async (r) => { process.stdout.write(await r.text()); })
        .catch(() => process.exit(1));' "$URL/health" 2>/dev/null)" || return 1
  fi
  [[ "$body" == *'"status":"healthy"'* ]]
}

# True when something accepts connections on the port.
port_taken() {
  (exec 3<>"/dev/tcp/$client_addr/$PORT") 2>/dev/null
}

# The PID of the server this script started, when it is still running.
server_pid() {
  local pid
  [[ -f "$PID_FILE" ]] || return 1
  pid="$(tr -dc '0-9' <"$PID_FILE")"
  [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null || return 1
  # Guard against a recycled PID: it must still be an ai-monitor server.
  ps -p "$pid" -o args= 2>/dev/null | grep -q 'cli.js serve' || return 1
  printf '%s' "$pid"
}

# Waits up to 30 s for the server to answer; fails early when its process exits.
wait_healthy() {
  local pid="$1" i
  for ((i = 0; i < 60; i++)); do
    healthy && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.5
  done
  return 1
}

print_endpoints() {
  local pid
  pid="$(server_pid || true)"
  say "ai-monitor is running${pid:+ (pid $pid)}"
  say "  dashboard        $URL/"
  say "  GraphiQL         $URL/graphql"
  say "  seed WebSocket   ${URL/http/ws}/"
  say "  health           $URL/health"
  [[ -n "$pid" ]] && say "  log              $LOG_FILE" && say "  stop             $SCRIPT stop"
  return 0
}

started_server=0

# Choice 1. Reuses a healthy server on the port; refuses a port taken by something else.
start_server() {
  check_settings
  started_server=0
  local pid
  if healthy; then
    say "an ai-monitor server already answers at $URL; reusing it"
    print_endpoints
    return 0
  fi
  if pid="$(server_pid)"; then
    say "the server started earlier (pid $pid) does not answer yet; waiting for it ..."
    wait_healthy "$pid" && { print_endpoints; return 0; }
    die "server pid $pid does not answer $URL/health; see $LOG_FILE, or stop it with: $SCRIPT stop"
  fi
  if port_taken; then
    die "port $PORT is taken by another program (not an ai-monitor server answering $URL/health). Use another port, e.g.: AI_MONITOR_PORT=8766 $SCRIPT"
  fi
  ensure_built
  mkdir -p -- "$DATA_DIR"
  rm -f -- "$PID_FILE"
  say "starting the ai-monitor server on $HOST:$PORT (data in $DATA_DIR, log in $LOG_FILE) ..."
  # Its own process group (set -m): Ctrl-C on a later choice of the menu does not stop it.
  (
    set -m
    nohup "$NODE_BIN" "$CLI" serve --host "$HOST" --port "$PORT" --data-dir "$DATA_DIR" </dev/null >>"$LOG_FILE" 2>&1 &
    echo "$!" >"$PID_FILE"
  )
  pid="$(cat "$PID_FILE")"
  if ! wait_healthy "$pid"; then
    err "the server did not start; the end of $LOG_FILE:"
    tail -n 15 "$LOG_FILE" >&2 || true
    kill "$pid" 2>/dev/null || true
    rm -f -- "$PID_FILE"
    exit 1
  fi
  started_server=1
  print_endpoints
}

stop_server() {
  local pid i
  if ! pid="$(server_pid)"; then
    rm -f -- "$PID_FILE"
    if healthy; then
      say "a server answers at $URL but was not started by this script; stop it where it was started"
    else
      say "no server started by this script is running"
    fi
    return 0
  fi
  say "stopping the ai-monitor server (pid $pid) ..."
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    err "the server did not stop within 10 s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f -- "$PID_FILE"
  say "stopped"
}

status() {
  check_settings
  if healthy; then
    print_endpoints
  else
    say "no ai-monitor server answers at $URL"
    return 1
  fi
}

require_server() {
  healthy || die "no ai-monitor server answers at $URL: start it first (choice 1, or 5 for everything)"
}

# Choice 2.
demo_client() {
  start_server
  say "demo client: simulated assistants sending traffic to $URL (Ctrl-C to stop)"
  AI_MONITOR_TOKEN="$(token_for "${AI_MONITOR_INGEST_TOKENS:-}")" run_cli demo --url "$URL" --burst-errors "$@"
}

# Choice 3.
open_dashboard() {
  check_settings
  local url="$URL/"
  healthy || err "no server answers at $URL yet: start it with choice 1"
  if [[ -z "${AI_MONITOR_NO_BROWSER:-}" ]]; then
    if [[ "$(uname -s)" == Darwin ]] && command -v open >/dev/null 2>&1; then
      open "$url" >/dev/null 2>&1 || true
    elif [[ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]] && command -v xdg-open >/dev/null 2>&1; then
      xdg-open "$url" >/dev/null 2>&1 </dev/null &
    fi
  fi
  say "dashboard: $url"
}

# Choice 4.
text_view() {
  check_settings
  require_server
  ensure_built
  AI_MONITOR_TOKEN="$(token_for "${AI_MONITOR_READ_TOKENS:-}")" run_cli tail --url "$URL" "$@"
}

# Choice 5: everything; what it started is stopped when it ends (Ctrl-C, TERM or tail exit).
demo_pid=""
tail_pid=""
full_started_server=0
stop_requested=0

full_cleanup() {
  local p
  for p in "$tail_pid" "$demo_pid"; do
    if [[ -n "$p" ]]; then kill -TERM "$p" 2>/dev/null || true; fi
  done
  for p in "$tail_pid" "$demo_pid"; do
    if [[ -n "$p" ]]; then wait "$p" 2>/dev/null || true; fi
  done
  tail_pid="" demo_pid=""
  if ((full_started_server)); then
    full_started_server=0
    stop_server
  fi
}

full_environment() {
  start_server
  full_started_server=$started_server
  stop_requested=0
  trap full_cleanup EXIT
  trap 'stop_requested=1' INT TERM
  # node itself in the background (not a shell function), so $! is the process to stop.
  AI_MONITOR_TOKEN="$(token_for "${AI_MONITOR_INGEST_TOKENS:-}")" \
    "$NODE_BIN" "$CLI" demo --url "$URL" --burst-errors --quiet </dev/null >>"$DEMO_LOG" 2>&1 &
  demo_pid=$!
  say "demo client running (pid $demo_pid, log $DEMO_LOG)"
  open_dashboard
  say "live text view follows; Ctrl-C stops the demo$( ((full_started_server)) && printf ' and the server')"
  AI_MONITOR_TOKEN="$(token_for "${AI_MONITOR_READ_TOKENS:-}")" "$NODE_BIN" "$CLI" tail --url "$URL" "$@" </dev/null &
  tail_pid=$!
  # `wait` returns early when a trapped signal arrives.
  while ((stop_requested == 0)) && kill -0 "$tail_pid" 2>/dev/null; do
    wait "$tail_pid" 2>/dev/null || true
  done
  full_cleanup
  trap - EXIT INT TERM
}

run_choice() {
  local choice="$1"
  shift
  case "$choice" in
    1) start_server ;;
    2) demo_client "$@" ;;
    3) open_dashboard ;;
    4) text_view "$@" ;;
    5) full_environment "$@" ;;
    s | stop) stop_server ;;
    status) status ;;
    q | quit | exit) exit 0 ;;
    -h | --help | help) usage ;;
    *)
      err "unknown choice '$choice' (1-5, s, status, q; see --help)"
      return 2
      ;;
  esac
}

menu() {
  local choice
  while true; do
    say ""
    say "ai-monitor — real-time monitoring for AI assistants ($URL)"
    say "  1) start the monitoring server"
    say "  2) start the demo client"
    say "  3) open the real-time dashboard"
    say "  4) view monitoring data as text"
    say "  5) start the full environment (server + demo + dashboard)"
    say "  s) stop the server"
    say "  q) quit"
    read -r -p "choice: " choice || exit 0
    # Quit here: in the subshell below, `exit` would leave only the subshell.
    case "$choice" in q | quit | exit) exit 0 ;; esac
    # A failing choice reports its error and returns to the menu.
    (run_choice "$choice") || true
  done
}

if (($# == 0)); then
  menu
else
  run_choice "$@"
fi

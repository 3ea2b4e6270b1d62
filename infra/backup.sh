#!/usr/bin/env bash
# Online backup of ai-monitor's SQLite database, safe while the server is running.
#
# Usage: infra/backup.sh [-d DATA_DIR] [-o BACKUP_DIR] [-k KEEP_DAYS] [-m auto|cli|sqlite3]
#
#   -d, --data-dir DIR     holds realtime_monitoring.db   (env AI_MONITOR_DATA_DIR,
#                          default: monitoring_data beside infra/, i.e. /opt/ai-monitor/monitoring_data)
#   -o, --dir DIR          where backups go               (env AI_MONITOR_BACKUP_DIR, default /backups/ai-monitor)
#   -k, --keep-days N      delete backups older than N days (env AI_MONITOR_BACKUP_KEEP_DAYS, default 30)
#   -m, --method M         auto (default): the ai-monitor CLI, else sqlite3
#                          cli: the ai-monitor CLI only; sqlite3: sqlite3 ".backup" only
#                          (env AI_MONITOR_BACKUP_METHOD)
#   -h, --help
#
# The CLI is, in order: $AI_MONITOR_BIN (a command, e.g. "node /opt/ai-monitor/apps/api/dist/cli.js"),
# apps/api/dist/cli.js of this repository (run with $NODE or node), `ai-monitor` on PATH.
# It runs `ai-monitor backup --data-dir D --dir B --keep-days N`, which writes
# B/backup_YYYYMMDD_HHMMSS.db with SQLite's online backup and deletes older backups.
# Without the CLI, the fallback is the seed's command:
#   sqlite3 DB ".backup B/backup_YYYYMMDD_HHMMSS.db"  then  find B -name 'backup_*.db' -mtime +N -delete
#
# Settings are read from, by precedence: options, environment, $AI_MONITOR_ENV_FILE
# (default /etc/ai-monitor/env, the systemd unit's file; only the AI_MONITOR_DATA_DIR,
# AI_MONITOR_DB_FILE and AI_MONITOR_STORAGE lines), defaults.
#
# Exit codes: 0 backup written; 1 backup failed; 2 bad usage or settings;
#             3 no database to back up; 4 no backup tool (neither the CLI nor sqlite3);
#             5 another backup is running.
# Cron (daily at 02:00, the seed's schedule): see infra/backup.cron.
set -euo pipefail

readonly EXIT_FAILED=1 EXIT_USAGE=2 EXIT_NO_DB=3 EXIT_NO_TOOL=4 EXIT_BUSY=5

script_dir="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
repo_root="$(cd -- "$script_dir/.." && pwd)"

log() { printf '%s ai-monitor-backup: %s\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$*"; }
die() {
  local code="$1"
  shift
  printf '%s ai-monitor-backup: error: %s\n' "$(date '+%Y-%m-%d %H:%M:%S')" "$*" >&2
  exit "$code"
}
usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"; }

# --- settings from the systemd environment file (only the keys this script needs) ---------
env_file="${AI_MONITOR_ENV_FILE:-/etc/ai-monitor/env}"
file_data_dir="" file_db_file="" file_storage=""
if [[ -r "$env_file" ]]; then
  while IFS= read -r line || [[ -n "$line" ]]; do
    line="${line#"${line%%[![:space:]]*}"}"
    [[ -z "$line" || "$line" == \#* ]] && continue
    key="${line%%=*}"
    value="${line#*=}"
    value="${value%\"}" && value="${value#\"}"
    value="${value%\'}" && value="${value#\'}"
    case "$key" in
      AI_MONITOR_DATA_DIR) file_data_dir="$value" ;;
      AI_MONITOR_DB_FILE) file_db_file="$value" ;;
      AI_MONITOR_STORAGE) file_storage="$value" ;;
    esac
  done <"$env_file"
fi

data_dir="${AI_MONITOR_DATA_DIR:-${file_data_dir:-$repo_root/monitoring_data}}"
db_file="${AI_MONITOR_DB_FILE:-$file_db_file}"
storage="${AI_MONITOR_STORAGE:-${file_storage:-sqlite}}"
backup_dir="${AI_MONITOR_BACKUP_DIR:-/backups/ai-monitor}"
keep_days="${AI_MONITOR_BACKUP_KEEP_DAYS:-30}"
method="${AI_MONITOR_BACKUP_METHOD:-auto}"

need_value() { [[ $# -ge 2 && -n "$2" ]] || die "$EXIT_USAGE" "option $1 needs a value (see --help)"; }
while [[ $# -gt 0 ]]; do
  case "$1" in
    -d | --data-dir) need_value "$@"; data_dir="$2"; db_file=""; shift 2 ;;
    -o | --dir | --backup-dir) need_value "$@"; backup_dir="$2"; shift 2 ;;
    -k | --keep-days) need_value "$@"; keep_days="$2"; shift 2 ;;
    -m | --method) need_value "$@"; method="$2"; shift 2 ;;
    -h | --help) usage; exit 0 ;;
    *) die "$EXIT_USAGE" "unknown argument: $1 (see --help)" ;;
  esac
done

[[ "$keep_days" =~ ^[0-9]+$ ]] || die "$EXIT_USAGE" "keep days must be a whole number of days, got '$keep_days'"
case "$method" in auto | cli | sqlite3) ;; *) die "$EXIT_USAGE" "method must be auto, cli or sqlite3, got '$method'" ;; esac
if [[ "$storage" != "sqlite" ]]; then
  die "$EXIT_USAGE" "storage is '$storage': this script backs up SQLite only; back up PostgreSQL with pg_dump or your provider's snapshots"
fi

db_file="${db_file:-$data_dir/realtime_monitoring.db}"
[[ -f "$db_file" ]] || die "$EXIT_NO_DB" "no database at $db_file (set --data-dir or AI_MONITOR_DATA_DIR)"

mkdir -p -- "$backup_dir" || die "$EXIT_FAILED" "cannot create backup directory $backup_dir"
[[ -w "$backup_dir" ]] || die "$EXIT_FAILED" "backup directory $backup_dir is not writable by $(id -un)"

# One backup at a time (cron and a manual run must not interleave).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$backup_dir/.backup.lock"
  flock -n 9 || die "$EXIT_BUSY" "another backup is running in $backup_dir"
fi

# --- find the ai-monitor CLI ---------------------------------------------------------------
cli=()
if [[ "$method" != "sqlite3" ]]; then
  if [[ -n "${AI_MONITOR_BIN:-}" ]]; then
    read -r -a cli <<<"$AI_MONITOR_BIN"
  elif [[ -f "$repo_root/apps/api/dist/cli.js" ]] && command -v "${NODE:-node}" >/dev/null 2>&1; then
    cli=("${NODE:-node}" "$repo_root/apps/api/dist/cli.js")
  elif command -v ai-monitor >/dev/null 2>&1; then
    cli=(ai-monitor)
  fi
fi

# Backups are named backup_YYYYMMDD_HHMMSS.db, so the greatest name is the newest.
newest_backup() {
  local f newest=""
  for f in "$backup_dir"/backup_*.db; do
    [[ -f "$f" ]] || continue
    if [[ -z "$newest" || "$f" > "$newest" ]]; then newest="$f"; fi
  done
  printf '%s' "$newest"
}

started=$(date +%s)
marker="$(mktemp "$backup_dir/.backup-started.XXXXXX")"
trap 'rm -f -- "$marker"' EXIT

if [[ ${#cli[@]} -gt 0 ]]; then
  before="$(newest_backup)"
  log "backing up $db_file to $backup_dir with ${cli[*]} (keep $keep_days days)"
  if ! AI_MONITOR_DB_FILE="$db_file" "${cli[@]}" backup --data-dir "$data_dir" --dir "$backup_dir" --keep-days "$keep_days"; then
    die "$EXIT_FAILED" "'${cli[*]} backup' failed"
  fi
  target="$(newest_backup)"
  if [[ -z "$target" ]] || { [[ "$target" == "$before" ]] && [[ ! "$target" -nt "$marker" ]]; }; then
    die "$EXIT_FAILED" "the CLI reported success but wrote no new backup_*.db in $backup_dir"
  fi
elif [[ "$method" == "cli" ]]; then
  die "$EXIT_NO_TOOL" "the ai-monitor CLI was not found (build it with 'npx turbo run build', or set AI_MONITOR_BIN)"
elif command -v sqlite3 >/dev/null 2>&1; then
  [[ "$backup_dir" != *"'"* ]] || die "$EXIT_USAGE" "backup directory must not contain a single quote: $backup_dir"
  target="$backup_dir/backup_$(date +%Y%m%d_%H%M%S).db"
  partial="$target.partial"
  log "backing up $db_file to $target with sqlite3 .backup (keep $keep_days days)"
  rm -f -- "$partial"
  if ! sqlite3 -bail -cmd ".timeout 30000" "$db_file" ".backup '$partial'"; then
    rm -f -- "$partial"
    die "$EXIT_FAILED" "sqlite3 .backup of $db_file failed"
  fi
  # A copy of a WAL database is marked WAL; mark it rollback-journal so opening the backup
  # (to inspect or verify it) leaves no -wal / -shm files beside it.
  sqlite3 -bail "$partial" 'PRAGMA journal_mode=DELETE;' >/dev/null ||
    { rm -f -- "$partial"; die "$EXIT_FAILED" "could not finalise $partial"; }
  mv -f -- "$partial" "$target"
  find "$backup_dir" -maxdepth 1 -type f -name 'backup_*.db' -mtime "+$keep_days" -print -delete |
    while IFS= read -r old; do log "deleted old backup $old"; done
else
  die "$EXIT_NO_TOOL" "neither the ai-monitor CLI nor sqlite3 is available (install sqlite3, or build the CLI)"
fi

# Verify the copy when sqlite3 is at hand ("immutable" opens it without creating side files).
if command -v sqlite3 >/dev/null 2>&1; then
  if [[ "$target" == *[?#%]* ]]; then
    check="$(sqlite3 -readonly "$target" 'PRAGMA quick_check;' 2>&1 || true)"
  else
    target_abs="$(cd -- "$(dirname -- "$target")" && pwd)/$(basename -- "$target")"
    check="$(sqlite3 "file:$target_abs?immutable=1" 'PRAGMA quick_check;' 2>&1 || true)"
  fi
  [[ "$check" == "ok" ]] || die "$EXIT_FAILED" "backup $target failed its integrity check: $check"
fi

size=$(wc -c <"$target" | tr -d ' ')
log "backup written: $target ($size bytes, $(($(date +%s) - started)) s)"

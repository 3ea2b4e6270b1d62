"""Test helpers: run the real ai-monitor server as a subprocess and query it via GraphQL.

The server is ``node apps/api/dist/cli.js serve --host 127.0.0.1 --port P --data-dir D``
(build it first: ``npm run build`` at the repository root). Everything stays on 127.0.0.1 and
every wait is bounded.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
from typing import Any, Callable, Dict, List, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
PY_ROOT = os.path.dirname(HERE)  # clients/python
REPO_ROOT = os.path.dirname(os.path.dirname(PY_ROOT))
CLI = os.path.join(REPO_ROOT, "apps", "api", "dist", "cli.js")
NODE = os.environ.get("NODE") or shutil.which("node") or "node"

LISTENING = re.compile(r"listening on https?://[^\s:/]+:(\d+)")

# Talk to the test server directly, never through a proxy from the environment.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

INTERACTION_FIELDS = (
    "id sessionId timestamp intent userInput success errorType responseTimeMs "
    "toolsUsed { tool params durationMs success error }"
)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


def wait_until(predicate: Callable[[], Any], timeout: float, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def server_available() -> Optional[str]:
    """None when the server can be started, else the reason it cannot."""
    if not os.path.isfile(CLI):
        return "server not built: %s is missing (run `npm run build` at the repo root)" % (
            os.path.relpath(CLI, REPO_ROOT),
        )
    if not shutil.which(NODE) and not os.path.isfile(NODE):
        return "node not found"
    return None


class ServerProcess(object):
    """The real ai-monitor server on 127.0.0.1, in its own data directory."""

    def __init__(self, data_dir: Optional[str] = None, port: int = 0,
                 env: Optional[Dict[str, str]] = None, token: Optional[str] = None) -> None:
        self._own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="ai-monitor-pytest-")
        self.port = port
        self.extra_env = env or {}
        self.token = token  # sent with GraphQL queries when the server requires one
        self.proc = None  # type: Optional[subprocess.Popen]
        self.lines = []  # type: List[str]
        self._ready = threading.Event()
        self._reader = None  # type: Optional[threading.Thread]

    @property
    def base(self) -> str:
        return "http://127.0.0.1:%d" % self.port

    @property
    def ws_url(self) -> str:
        return "ws://127.0.0.1:%d" % self.port

    def start(self, timeout: float = 30.0) -> "ServerProcess":
        reason = server_available()
        if reason:
            raise RuntimeError(reason)
        env = dict((k, v) for k, v in os.environ.items() if not k.startswith("AI_MONITOR_"))
        # Naive timestamps in the tests are UTC wall-clock times, whatever the machine's zone.
        env["AI_MONITOR_NAIVE_TIMEZONE"] = "UTC"
        env.update(self.extra_env)
        self.lines = []
        self._ready.clear()
        cmd = [NODE, CLI, "serve", "--host", "127.0.0.1", "--port", str(self.port),
               "--data-dir", self.data_dir]
        self.proc = subprocess.Popen(
            cmd, cwd=REPO_ROOT, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, bufsize=1, universal_newlines=True, errors="replace",
        )
        self._reader = threading.Thread(target=self._read, args=(self.proc,), daemon=True)
        self._reader.start()
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.05):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                output = self.output()
                self.stop()
                raise RuntimeError("ai-monitor server did not start (exit %s):\n%s"
                                   % (self.proc.returncode, output[-4000:]))
        return self

    def _read(self, proc: "subprocess.Popen") -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.lines.append(line.rstrip("\n"))
            if not self._ready.is_set():
                m = LISTENING.search(line)
                if m:
                    self.port = int(m.group(1))
                    self._ready.set()

    def output(self) -> str:
        return "\n".join(self.lines)

    def stop(self, timeout: float = 15.0) -> Optional[int]:
        proc = self.proc
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if self._reader is not None:
            self._reader.join(2)
        if proc.stdout is not None:
            proc.stdout.close()
        return proc.returncode

    def cleanup(self) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    # --- HTTP helpers ------------------------------------------------------------------------

    def request(self, method: str, path: str, body: Any = None,
                headers: Optional[Dict[str, str]] = None, timeout: float = 10.0):
        """(status, parsed JSON or text) of one request to the server."""
        data = None
        hdrs = {"Accept": "application/json"}
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
            hdrs["Content-Type"] = "application/json"
        if self.token:
            hdrs["Authorization"] = "Bearer " + self.token
        hdrs.update(headers or {})
        req = urllib.request.Request(self.base + path, data=data, headers=hdrs, method=method)
        try:
            resp = _opener.open(req, timeout=timeout)
            status, raw = resp.getcode(), resp.read()
            resp.close()
        except urllib.error.HTTPError as exc:
            status, raw = exc.code, exc.read()
        text = raw.decode("utf-8", "replace")
        try:
            return status, json.loads(text)
        except ValueError:
            return status, text

    def graphql(self, query: str, variables: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        status, reply = self.request("POST", "/graphql", {"query": query, "variables": variables or {}})
        if status != 200 or not isinstance(reply, dict) or reply.get("errors"):
            raise AssertionError("GraphQL query failed (HTTP %s): %r" % (status, reply))
        return reply["data"]

    def interactions(self, fields: str = INTERACTION_FIELDS, max_pages: int = 200) -> List[Dict[str, Any]]:
        """Every stored interaction (relay pagination, 100 per page)."""
        query = (
            "query($after: String) { interactions(first: 100, after: $after) "
            "{ edges { node { %s } } pageInfo { hasNextPage endCursor } } }" % fields
        )
        nodes = []  # type: List[Dict[str, Any]]
        after = None
        for _ in range(max_pages):
            conn = self.graphql(query, {"after": after})["interactions"]
            nodes.extend(edge["node"] for edge in conn["edges"])
            info = conn["pageInfo"]
            if not info["hasNextPage"]:
                break
            after = info["endCursor"]
        return nodes

    def session(self, session_id: str, fields: str = INTERACTION_FIELDS) -> List[Dict[str, Any]]:
        return [n for n in self.interactions(fields) if n["sessionId"] == session_id]

    def interaction(self, rid: str, fields: str = INTERACTION_FIELDS) -> Optional[Dict[str, Any]]:
        query = "query($id: ID!) { interaction(id: $id) { %s } }" % fields
        return self.graphql(query, {"id": rid})["interaction"]


class SharedServerTestCase(unittest.TestCase):
    """One server for the whole test class."""

    server = None  # type: ServerProcess

    @classmethod
    def setUpClass(cls) -> None:
        reason = server_available()
        if reason:
            raise RuntimeError(reason)
        cls.server = ServerProcess().start()

    @classmethod
    def tearDownClass(cls) -> None:
        if cls.server is not None:
            cls.server.cleanup()

    def make_client(self, server_url: Optional[str] = None, **kwargs: Any):
        return make_client(self, server_url or self.server.ws_url, **kwargs)


def make_client(test: unittest.TestCase, server_url: str, **kwargs: Any):
    """A client with fast retries for tests, closed when the test ends."""
    from ai_monitor_client import AIMonitorClient

    options = dict(retry_base_delay=0.05, retry_max_delay=0.5, flush_interval=0.05,
                   request_timeout=5.0, flush_at_exit=False)
    options.update(kwargs)
    client = AIMonitorClient(server_url=server_url, **options)
    test.addCleanup(client.close, 0)
    return client


def unique(prefix: str) -> str:
    """A session id no other test uses."""
    from ai_monitor_client import new_id

    return "%s-%s" % (prefix, new_id())

"""Unit tests that need no server: record shape, URL mapping, ids, Python 3.8 syntax, and the
transport's reply handling against a scripted stdlib HTTP stub (for replies the real server
only gives in odd states: 413, undetailed 400, 401 then 200)."""

import ast
import asyncio
import datetime
import glob
import json
import os
import re
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, HTTPServer

from ai_monitor_client import AIMonitorClient, http_base_from_server_url, new_id
from ai_monitor_client._util import dumps_record

from ._support import PY_ROOT, make_client

UTC_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?\+00:00$")


class RecordShapeTest(unittest.TestCase):
    def client(self, **kw):
        kw.setdefault("server_url", "ws://127.0.0.1:9")
        return make_client(self, **kw)

    def test_seed_record_fields(self):
        c = self.client()
        rec = c.build_record(user_input="hello", intent="greet",
                             tools_used=[{"tool": "read", "params": {}}], response_time=1500,
                             success=True)
        self.assertEqual(
            set(rec),
            {"id", "session_id", "timestamp", "user_input", "intent", "tools_used",
             "response_time_ms", "success", "error_type"},
        )
        self.assertRegex(rec["session_id"], r"^\d{8}_\d{6}$")
        self.assertRegex(rec["timestamp"], UTC_ISO)
        self.assertEqual(rec["tools_used"], [{"tool": "read", "params": {}}])
        self.assertEqual(rec["response_time_ms"], 1500)
        self.assertIs(rec["success"], True)
        self.assertIsNone(rec["error_type"])
        self.assertEqual(len(rec["id"]), 26)

    def test_timestamp_is_utc_with_offset(self):
        c = self.client()
        rec = c.build_record("x", "y")
        ts = datetime.datetime.fromisoformat(rec["timestamp"])
        self.assertEqual(ts.utcoffset(), datetime.timedelta(0))
        now = datetime.datetime.now(datetime.timezone.utc)
        self.assertLess(abs((now - ts).total_seconds()), 5)
        aware = datetime.datetime(2026, 2, 17, 14, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
        self.assertEqual(c.build_record("x", "y", timestamp=aware)["timestamp"], "2026-02-17T06:30:00+00:00")
        # a naive datetime is sent as it is: the server reads it in its naive-timestamp zone
        naive = datetime.datetime(2026, 2, 17, 14, 30)
        self.assertEqual(c.build_record("x", "y", timestamp=naive)["timestamp"], "2026-02-17T14:30:00")

    def test_user_input_truncated_to_200(self):
        rec = self.client().build_record("é" * 500, "i")
        self.assertEqual(rec["user_input"], "é" * 200)

    def test_optional_fields_and_unknown_keywords(self):
        c = self.client(model="default-model", assistant="bot")
        rec = c.build_record(
            "u", "i", response_time=datetime.timedelta(milliseconds=250), success=False,
            error_type=TimeoutError, session_id="s1", id="my-id", input_tokens=10,
            output_tokens=20, cost_usd=0.5, feedback_score=4, metadata={"a": 1}, channel="web",
            model="override",
        )
        self.assertEqual(rec["id"], "my-id")
        self.assertEqual(rec["session_id"], "s1")
        self.assertEqual(rec["response_time_ms"], 250)
        self.assertEqual(rec["error_type"], "TimeoutError")
        self.assertEqual(rec["model"], "override")
        self.assertEqual(rec["assistant"], "bot")
        self.assertEqual(rec["metadata"], {"a": 1, "channel": "web"})
        self.assertEqual((rec["input_tokens"], rec["output_tokens"], rec["cost_usd"],
                          rec["feedback_score"]), (10, 20, 0.5, 4))

    def test_tools_lenient_shapes(self):
        rec = self.client().build_record(
            "u", "i", tools_used=["search", ("read", {"p": 1}), {"name": "write", "params": None},
                                  {"tool": "x", "params": [1, 2], "duration_ms": None}])
        self.assertEqual(rec["tools_used"], [
            {"tool": "search", "params": {}}, {"tool": "read", "params": {"p": 1}},
            {"tool": "write", "params": {}}, {"tool": "x", "params": {"value": [1, 2]}},
        ])

    def test_json_never_fails(self):
        text = dumps_record({"a": float("nan"), "b": object(), "c": {1, 2}, "d": b"\xff",
                             "e": datetime.date(2026, 1, 2), 3: "int key"})
        data = json.loads(text)
        self.assertIsNone(data["a"])
        self.assertEqual(data["e"], "2026-01-02")
        self.assertTrue(text.isascii() if hasattr(text, "isascii") else True)

    def test_log_interaction_never_raises(self):
        c = self.client(max_buffer=100)

        class Weird(object):
            def __str__(self):
                raise RuntimeError("no str for you")

        async def main():
            await c.log_interaction(Weird(), Weird(), tools_used=Weird(), response_time=Weird(),
                                    success=Weird(), error_type=Weird(), metadata=Weird())
            await c.log_interaction(None, None, None, None, None, None)
            await c.log_interaction(user_input=b"bytes", intent=1, tools_used=[object()],
                                    response_time=float("inf"), success="yes",
                                    metadata={"x": object()})

        asyncio.run(main())  # must not raise


class UrlAndIdTest(unittest.TestCase):
    def test_ws_to_http(self):
        self.assertEqual(http_base_from_server_url("ws://localhost:8765"), "http://localhost:8765")
        self.assertEqual(http_base_from_server_url("wss://m.example.com/"), "https://m.example.com")
        self.assertEqual(http_base_from_server_url("wss://m.example.com/mon/"), "https://m.example.com/mon")
        self.assertEqual(http_base_from_server_url("http://h:1"), "http://h:1")
        self.assertEqual(http_base_from_server_url("h:8765"), "http://h:8765")
        with self.assertRaises(ValueError):
            http_base_from_server_url("ftp://h")

    def test_ids_sorted_and_unique(self):
        ids = [new_id() for _ in range(5000)]
        self.assertEqual(len(set(ids)), len(ids))
        self.assertEqual(ids, sorted(ids))
        self.assertTrue(all(re.match(r"^[0-9A-HJKMNP-TV-Z]{26}$", i) for i in ids))

    def test_env_configuration(self):
        old = dict(os.environ)
        try:
            os.environ["AI_MONITOR_URL"] = "wss://env.example:9999"
            os.environ["AI_MONITOR_TOKEN"] = "tok"
            c = AIMonitorClient(flush_at_exit=False)
            self.assertEqual(c.http_url, "https://env.example:9999")
            self.assertEqual(c._transport.token, "tok")
            c.close(0)
        finally:
            os.environ.clear()
            os.environ.update(old)


class Python38SyntaxTest(unittest.TestCase):
    def test_sources_parse_as_python_38(self):
        files = glob.glob(os.path.join(PY_ROOT, "ai_monitor_client", "*.py"))
        files.append(os.path.join(PY_ROOT, "ai_realtime_tracker.py"))
        files += glob.glob(os.path.join(PY_ROOT, "tests", "*.py"))
        self.assertGreater(len(files), 5)
        for path in files:
            with open(path, encoding="utf-8") as f:
                ast.parse(f.read(), filename=path, feature_version=(3, 8))


# --- transport against a scripted stub -----------------------------------------------------


class _Stub(object):
    """A tiny HTTP server whose replies to POST /api/interactions are scripted."""

    def __init__(self, handler):
        stub = self
        self.requests = []  # (headers, records)
        self.handler = handler

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(n)
                records = json.loads(raw.decode("utf-8"))["data"]
                stub.requests.append((dict(self.headers), records, len(raw)))
                reply = stub.handler(records, len(raw), len(stub.requests))
                if reply is None:  # hang up without answering
                    self.close_connection = True
                    return
                status, body = reply
                data = json.dumps(body).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                data = b'{"status":"healthy"}'
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.httpd = HTTPServer(("127.0.0.1", 0), H)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def _ok(records):
    return 200, {"accepted": len(records), "ids": [r.get("id") for r in records], "rejected": []}


class TransportStubTest(unittest.TestCase):
    def stub(self, handler):
        s = _Stub(handler)
        self.addCleanup(s.close)
        return s

    def log_n(self, client, n, **kw):
        for i in range(n):
            client.log_interaction_sync("q%d" % i, "i", [], i, True, **kw)

    def test_413_splits_batches(self):
        def handler(records, size, count):
            return (413, {"error": "too large"}) if size > 20000 else _ok(records)

        s = self.stub(handler)
        c = make_client(self, "ws://127.0.0.1:%d" % s.port, flush_interval=10)
        self.log_n(c, 40, metadata={"pad": "x" * 2000})
        self.assertTrue(c.flush(10))
        delivered = [r["user_input"] for h, recs, size in s.requests for r in recs if size <= 20000]
        self.assertEqual(sorted(delivered), sorted("q%d" % i for i in range(40)))
        self.assertEqual(c.sent, 40)
        self.assertEqual(c.rejected, 0)

    def test_connection_cut_on_large_bodies_shrinks_batches(self):
        def handler(records, size, count):
            return None if len(records) > 4 else _ok(records)

        s = self.stub(handler)
        c = make_client(self, "ws://127.0.0.1:%d" % s.port, flush_interval=10)
        self.log_n(c, 20)
        self.assertTrue(c.flush(20), c.stats())
        self.assertEqual(c.sent, 20)
        self.assertIn("connection cut", c.stats()["last_error"])

    def test_400_with_rejected_and_undetailed_400(self):
        def handler(records, size, count):
            bad = [i for i, r in enumerate(records) if r["response_time_ms"] < 0]
            if len(bad) == len(records):
                return 400, {"accepted": 0, "ids": [],
                             "rejected": [{"index": i, "error": "response_time_ms: must be >= 0"} for i in bad]}
            if any(r["intent"] == "poison" for r in records):
                return 400, {"error": "bad request"}  # no detail: the client bisects
            if bad:
                return 200, {"accepted": len(records) - len(bad), "ids": [],
                             "rejected": [{"index": i, "error": "response_time_ms: must be >= 0"} for i in bad]}
            return _ok(records)

        s = self.stub(handler)
        c = make_client(self, "ws://127.0.0.1:%d" % s.port, flush_interval=10)
        c.log_interaction_sync("a", "i", [], 1, True)
        c.log_interaction_sync("b", "i", [], -1, True)
        c.log_interaction_sync("c", "i", [], 1, True)
        self.assertTrue(c.flush(10))
        self.assertEqual((c.sent, c.rejected), (2, 1))
        c.log_interaction_sync("d", "i", [], -1, True)
        self.assertTrue(c.flush(10))
        self.assertEqual((c.sent, c.rejected), (2, 2))
        for i in range(7):
            c.log_interaction_sync("e%d" % i, "poison" if i == 4 else "i", [], 1, True)
        self.assertTrue(c.flush(10))
        self.assertEqual((c.sent, c.rejected), (8, 3))
        self.assertEqual(c.buffered, 0)

    def test_401_is_retried_and_token_sent(self):
        def handler(records, size, count):
            return (401, {"error": "unauthorized"}) if count < 3 else _ok(records)

        s = self.stub(handler)
        c = make_client(self, "ws://127.0.0.1:%d" % s.port, token="secret")
        self.log_n(c, 3)
        self.assertTrue(c.flush(10))
        self.assertEqual(c.sent, 3)
        self.assertGreaterEqual(c.stats()["failed_requests"], 2)
        self.assertEqual(s.requests[0][0].get("Authorization"), "Bearer secret")

    def test_batch_size_and_single_request_per_batch(self):
        s = self.stub(lambda records, size, count: _ok(records))
        c = make_client(self, "ws://127.0.0.1:%d" % s.port, batch_size=100, flush_interval=10)
        self.log_n(c, 250)
        self.assertTrue(c.flush(10))
        self.assertEqual([len(r[1]) for r in s.requests], [100, 100, 50])

    def test_batching_window(self):
        s = self.stub(lambda records, size, count: _ok(records))
        c = make_client(self, "ws://127.0.0.1:%d" % s.port, flush_interval=0.3)
        self.log_n(c, 5)
        time.sleep(0.1)
        self.assertEqual(len(s.requests), 0)  # still collecting
        deadline = time.monotonic() + 5
        while c.buffered and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertEqual([len(r[1]) for r in s.requests], [5])


if __name__ == "__main__":
    unittest.main()

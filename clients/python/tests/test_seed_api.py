"""The seed's "way 1": AIMonitorClient against the real server."""

import asyncio
import datetime
import unittest

import ai_monitor_client
import ai_realtime_tracker
from ai_monitor_client import AIMonitorClient

from ._support import SharedServerTestCase, unique

EXTRA_FIELDS = (
    "id sessionId timestamp assistant version model userId inputTokens outputTokens costUsd "
    "feedbackScore metadata"
)


class SeedApiTest(SharedServerTestCase):
    def test_seed_usage_exactly(self):
        server_url = self.server.ws_url

        async def main():
            # --- the seed's code, verbatim apart from the server address -------------------
            monitor = AIMonitorClient(server_url=server_url)
            connected = await monitor.connect()
            rid = await monitor.log_interaction(
                user_input="List the files in my project",
                intent="file_listing",
                tools_used=[{"tool": "read", "params": {}}],
                response_time=1500,
                success=True,
                error_type=None,
            )
            # -------------------------------------------------------------------------------
            delivered = await monitor.aflush(10)
            monitor.close(0)
            return monitor, connected, rid, delivered

        monitor, connected, rid, delivered = asyncio.run(main())
        self.assertTrue(connected)
        self.assertTrue(delivered)
        self.assertEqual(monitor.sent, 1)
        node = self.server.interaction(rid)
        self.assertIsNotNone(node, "record %s not found" % rid)
        self.assertEqual(node["id"], rid)
        self.assertEqual(node["sessionId"], monitor.session_id)
        self.assertRegex(node["sessionId"], r"^\d{8}_\d{6}$")
        self.assertEqual(node["userInput"], "List the files in my project")
        self.assertEqual(node["intent"], "file_listing")
        self.assertEqual([(t["tool"], t["params"]) for t in node["toolsUsed"]], [("read", {})])
        self.assertEqual(node["responseTimeMs"], 1500)
        self.assertIs(node["success"], True)
        self.assertIsNone(node["errorType"])
        # the relay connection lists it too
        ids = [n["id"] for n in self.server.interactions()]
        self.assertIn(rid, ids)

    def test_failure_with_error_type_and_defaults(self):
        session = unique("seed-fail")

        async def main():
            monitor = self.make_client(session_id=session)
            await monitor.connect()
            await monitor.log_interaction("Open the config", "file_read",
                                          [{"tool": "read", "params": {"path": "/etc/x"}}],
                                          320, False, "FileNotFoundError")
            # error_type defaults to None, as in the seed's signature
            await monitor.log_interaction(user_input="hi", intent="greet", tools_used=[],
                                          response_time=12, success=True)
            return await monitor.aflush(10)

        self.assertTrue(asyncio.run(main()))
        nodes = sorted(self.server.session(session), key=lambda n: n["id"])
        self.assertEqual([(n["intent"], n["success"], n["errorType"]) for n in nodes],
                         [("file_read", False, "FileNotFoundError"), ("greet", True, None)])
        self.assertEqual(nodes[0]["toolsUsed"][0]["params"], {"path": "/etc/x"})

    def test_user_input_truncated_to_200_characters(self):
        session = unique("seed-trunc")
        monitor = self.make_client(session_id=session)
        text = "".join(chr(ord("a") + i % 26) for i in range(1000))
        rid = monitor.log_interaction_sync(text, "long", [], 5, True)
        self.assertTrue(monitor.flush(10))
        self.assertEqual(self.server.interaction(rid)["userInput"], text[:200])

    def test_optional_fields(self):
        session = unique("seed-extra")
        monitor = self.make_client(session_id="unused", assistant="helper-bot", version="1.2.3")
        custom_id = "py-" + unique("id")
        ts = datetime.datetime(2026, 2, 17, 14, 30, 0, 123456)
        rid = monitor.log_interaction_sync(
            "u", "extra", [], 42, True, None, id=custom_id, session_id=session, timestamp=ts,
            model="gpt-x", user_id="user-7", input_tokens=120, output_tokens=80,
            cost_usd=0.0042, feedback_score=5, metadata={"channel": "cli", "n": [1, 2]},
        )
        self.assertEqual(rid, custom_id)
        self.assertTrue(monitor.flush(10))
        node = self.server.interaction(custom_id, EXTRA_FIELDS)
        self.assertIsNotNone(node)
        self.assertEqual(node["sessionId"], session)
        self.assertEqual(node["assistant"], "helper-bot")
        self.assertEqual(node["version"], "1.2.3")
        self.assertEqual(node["model"], "gpt-x")
        self.assertEqual(node["userId"], "user-7")
        self.assertEqual((node["inputTokens"], node["outputTokens"]), (120, 80))
        self.assertAlmostEqual(node["costUsd"], 0.0042)
        self.assertEqual(node["feedbackScore"], 5)
        self.assertEqual(node["metadata"], {"channel": "cli", "n": [1, 2]})
        # a naive timestamp is read in the server's naive zone (UTC for the test server)
        self.assertTrue(str(node["timestamp"]).startswith("2026-02-17T14:30:00"), node["timestamp"])

    def test_default_timestamp_is_now_in_utc(self):
        monitor = self.make_client(session_id=unique("seed-ts"))
        rid = monitor.log_interaction_sync("u", "clock", [], 1, True)
        self.assertTrue(monitor.flush(10))
        stamp = self.server.interaction(rid)["timestamp"]
        parsed = datetime.datetime.fromisoformat(str(stamp).replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=datetime.timezone.utc)
        now = datetime.datetime.now(datetime.timezone.utc)
        self.assertLess(abs((now - parsed).total_seconds()), 60, stamp)

    def test_repeated_id_is_stored_once(self):
        session = unique("seed-dup")
        monitor = self.make_client(session_id=session)
        rid = "dup-" + unique("x")
        monitor.log_interaction_sync("u", "dup", [], 1, True, id=rid)
        self.assertTrue(monitor.flush(10))
        monitor.log_interaction_sync("u", "dup", [], 1, True, id=rid)
        self.assertTrue(monitor.flush(10))
        self.assertEqual(len(self.server.session(session)), 1)

    def test_import_aliases(self):
        self.assertIs(ai_realtime_tracker.AIMonitorClient, ai_monitor_client.AIMonitorClient)
        self.assertIsInstance(ai_realtime_tracker.tracker, ai_monitor_client.Tracker)

    def test_connect_reports_unreachable_without_raising(self):
        from ._support import free_port

        async def main():
            monitor = self.make_client("ws://127.0.0.1:%d" % free_port())
            return await monitor.connect(timeout=1)

        self.assertIs(asyncio.run(main()), False)


if __name__ == "__main__":
    unittest.main()

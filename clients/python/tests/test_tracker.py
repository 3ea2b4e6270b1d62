"""The seed's "way 2": tracker.track_interaction(...) as a context manager, real server."""

import asyncio
import os
import subprocess
import sys
import textwrap
import time
import unittest

from ai_monitor_client import Tracker

from ._support import PY_ROOT, SharedServerTestCase, unique, wait_until


class ToolCrash(Exception):
    pass


class TrackerTest(SharedServerTestCase):
    def tracker(self, session):
        client = self.make_client(session_id=session)
        return Tracker(client=client), client

    def test_sync_success(self):
        session = unique("trk-sync")
        tracker, client = self.tracker(session)
        with tracker.track_interaction("find my notes") as t:
            t.log_intent("search")
            t.log_tool_use("read", {"path": "x"})
            t.log_tool_use("grep", {"q": "notes"}, duration_ms=12, success=False, error="no match")
            time.sleep(0.06)
        self.assertTrue(t.recorded)
        self.assertTrue(tracker.flush(10))
        node = self.server.interaction(t.id)
        self.assertIsNotNone(node)
        self.assertEqual(node["sessionId"], session)
        self.assertEqual(node["userInput"], "find my notes")
        self.assertEqual(node["intent"], "search")
        self.assertIs(node["success"], True)
        self.assertIsNone(node["errorType"])
        self.assertGreaterEqual(node["responseTimeMs"], 50)
        self.assertLess(node["responseTimeMs"], 5000)
        tools = node["toolsUsed"]
        self.assertEqual([(x["tool"], x["params"]) for x in tools],
                         [("read", {"path": "x"}), ("grep", {"q": "notes"})])
        self.assertEqual((tools[1]["durationMs"], tools[1]["success"], tools[1]["error"]),
                         (12, False, "no match"))

    def test_environment_keyword_default_and_tracker(self):
        session = unique("trk-env")
        client = self.make_client(session_id=session, environment="staging")
        tracker = Tracker(client=client)
        by_keyword = client.log_interaction_sync("a", "chat", [], 5, True, environment="production")
        by_default = client.log_interaction_sync("b", "chat", [], 5, True)
        with tracker.track_interaction("c", "chat", environment="production") as t1:
            pass
        with tracker.track_interaction("d", "chat") as t2:
            t2.set(environment="dev")
        self.assertTrue(tracker.flush(10))
        stored = {rid: self.server.interaction(rid, "id environment metadata")
                  for rid in (by_keyword, by_default, t1.id, t2.id)}
        self.assertEqual([stored[rid]["environment"] for rid in (by_keyword, by_default, t1.id, t2.id)],
                         ["production", "staging", "production", "dev"])
        # A record field, not metadata.
        self.assertTrue(all(not (n["metadata"] or {}).get("environment") for n in stored.values()))
        found = self.server.graphql(
            'query { interactions(first: 10, filter: { sessionId: "%s", environment: "production" }) '
            "{ edges { node { id } } } }" % session
        )["interactions"]["edges"]
        self.assertEqual(sorted(e["node"]["id"] for e in found), sorted([by_keyword, t1.id]))

    def test_sync_exception_is_recorded_and_reraised(self):
        session = unique("trk-exc")
        tracker, client = self.tracker(session)
        boom = ValueError("bad input")
        with self.assertRaises(ValueError) as ctx:
            with tracker.track_interaction("divide by zero please") as t:
                t.log_intent("math")
                raise boom
        self.assertIs(ctx.exception, boom)
        self.assertTrue(tracker.flush(10))
        node = self.server.interaction(t.id)
        self.assertIs(node["success"], False)
        self.assertEqual(node["errorType"], "ValueError")
        self.assertEqual(node["intent"], "math")

    def test_async_with_success_and_exception(self):
        session = unique("trk-async")
        tracker, client = self.tracker(session)

        async def handle(text, fail):
            async with tracker.track_interaction(text) as t:
                t.log_intent("lookup")
                async with t.tool("fetch", {"url": "http://example.invalid/"}):
                    await asyncio.sleep(0.02)
                if fail:
                    raise ToolCrash("the tool crashed")
                return t

        async def main():
            ok = await handle("good", False)
            with self.assertRaises(ToolCrash):
                await handle("bad", True)
            self.assertTrue(await tracker.aflush(10))
            return ok

        ok = asyncio.run(main())
        nodes = {n["userInput"]: n for n in self.server.session(session)}
        self.assertEqual(set(nodes), {"good", "bad"})
        self.assertEqual((nodes["good"]["success"], nodes["good"]["errorType"]), (True, None))
        self.assertEqual((nodes["bad"]["success"], nodes["bad"]["errorType"]), (False, "ToolCrash"))
        fetch = nodes["good"]["toolsUsed"][0]
        self.assertEqual(fetch["tool"], "fetch")
        self.assertIs(fetch["success"], True)
        self.assertGreaterEqual(fetch["durationMs"], 15)
        self.assertEqual(nodes["good"]["id"], ok.id)

    def test_seed_middleware_shape(self):
        """The seed's snippet: a sync `with` inside an async handler, `return` inside it."""
        session = unique("trk-seed")
        tracker, client = self.tracker(session)

        class Result(object):
            tool = "read"
            params = {"path": "README.md"}

        class Request(object):
            user_input = "summarise the README"

        class Assistant(object):
            async def understand_intent(self, request):
                await asyncio.sleep(0.01)
                return "summarise"

            async def execute(self, intent):
                await asyncio.sleep(0.01)
                return Result()

            async def process(self, request):
                with tracker.track_interaction(request.user_input) as t:
                    intent = await self.understand_intent(request)
                    t.log_intent(intent)
                    result = await self.execute(intent)
                    t.log_tool_use(result.tool, result.params)
                    return result

        async def main():
            result = await Assistant().process(Request())
            self.assertIsInstance(result, Result)
            return await tracker.aflush(10)

        self.assertTrue(asyncio.run(main()))
        [node] = self.server.session(session)
        self.assertEqual((node["userInput"], node["intent"], node["success"]),
                         ("summarise the README", "summarise", True))
        self.assertEqual(node["toolsUsed"][0]["params"], {"path": "README.md"})
        self.assertGreaterEqual(node["responseTimeMs"], 15)

    def test_fail_without_exception_and_default_intent(self):
        session = unique("trk-fail")
        tracker, client = self.tracker(session)
        with tracker.track_interaction("make it rain") as t:
            t.fail("Refused")
        with tracker.track_interaction("no intent logged") as t2:
            pass
        self.assertTrue(tracker.flush(10))
        node = self.server.interaction(t.id)
        self.assertEqual((node["success"], node["errorType"]), (False, "Refused"))
        self.assertEqual(self.server.interaction(t2.id)["intent"], "unknown")

    def test_module_tracker_from_environment_flushes_at_exit(self):
        """`from ai_realtime_tracker import tracker` configured by AI_MONITOR_URL, in a fresh
        interpreter that exits without flushing: the atexit hook delivers the records."""
        session = unique("trk-env")
        script = textwrap.dedent("""
            import asyncio, sys
            from ai_realtime_tracker import tracker

            async def handle(text):
                with tracker.track_interaction(text, session_id=%r) as t:
                    t.log_intent("env-intent")
                    t.log_tool_use("read", {"path": "x"})
                    await asyncio.sleep(0.01)

            asyncio.run(handle("first"))
            try:
                with tracker.track_interaction("second", session_id=%r) as t:
                    raise KeyError("k")
            except KeyError:
                pass
            sys.stdout.write(tracker.client.http_url + "\\n")
        """ % (session, session))
        env = dict((k, v) for k, v in os.environ.items() if not k.startswith("AI_MONITOR_"))
        env["AI_MONITOR_URL"] = self.server.ws_url
        env["PYTHONPATH"] = PY_ROOT + os.pathsep + env.get("PYTHONPATH", "")
        proc = subprocess.run([sys.executable, "-c", script], env=env, cwd=PY_ROOT,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=60)
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        self.assertEqual(proc.stdout.decode().strip(), self.server.base)
        nodes = {n["userInput"]: n for n in wait_until(lambda: self.server.session(session), 5)}
        self.assertEqual(set(nodes), {"first", "second"})
        self.assertEqual((nodes["first"]["intent"], nodes["first"]["success"]), ("env-intent", True))
        self.assertEqual((nodes["second"]["success"], nodes["second"]["errorType"]), (False, "KeyError"))


if __name__ == "__main__":
    unittest.main()

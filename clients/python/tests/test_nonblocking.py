"""The SDK never blocks the assistant: an asyncio loop stays responsive while the server is
unreachable (connection refused) or hangs (accepts connections, never answers), and exit is
bounded."""

import asyncio
import os
import socket
import subprocess
import sys
import textwrap
import time
import unittest

from ai_monitor_client import Tracker

from ._support import PY_ROOT, free_port, make_client

MAX_LOOP_LAG = 0.25  # seconds; generous for a loaded machine
MAX_CALL = 0.05  # seconds for one log_interaction call


class Blackhole(object):
    """A TCP port on 127.0.0.1 that accepts connections and never answers."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(128)
        self.port = self.sock.getsockname()[1]

    def close(self):
        self.sock.close()


class NonBlockingTest(unittest.TestCase):
    def check_loop_stays_responsive(self, server_url):
        client = make_client(self, server_url, request_timeout=2.0, retry_base_delay=0.05)
        tracker = Tracker(client=client)

        async def main():
            loop = asyncio.get_event_loop()
            lags = []
            stop = [False]

            async def ticker():
                last = loop.time()
                while not stop[0]:
                    await asyncio.sleep(0.01)
                    now = loop.time()
                    lags.append(now - last - 0.01)
                    last = now

            task = asyncio.ensure_future(ticker())
            await asyncio.sleep(0.05)
            connected = await client.connect(timeout=1.0)
            slowest = 0.0
            for i in range(2000):
                t0 = time.perf_counter()
                await client.log_interaction("q%d" % i, "nb", [{"tool": "read", "params": {}}], i, True)
                slowest = max(slowest, time.perf_counter() - t0)
                if i % 50 == 0:
                    await asyncio.sleep(0)
            async with tracker.track_interaction("tracked") as t:
                t.log_intent("nb")
                await asyncio.sleep(0.02)
            t0 = loop.time()
            flushed = await client.aflush(timeout=1.0)
            flush_time = loop.time() - t0
            await asyncio.sleep(0.3)  # let the sender retry a few times meanwhile
            stop[0] = True
            await task
            return connected, slowest, flushed, flush_time, max(lags), len(lags)

        connected, slowest, flushed, flush_time, max_lag, ticks = asyncio.run(main())
        self.assertFalse(connected)
        self.assertFalse(flushed)
        self.assertLess(flush_time, 2.0)
        self.assertLess(slowest, MAX_CALL)
        self.assertLess(max_lag, MAX_LOOP_LAG, "event loop stalled for %.3fs" % max_lag)
        self.assertGreater(ticks, 50)
        self.assertEqual(client.buffered, 2001)  # all kept for later delivery
        self.assertEqual(client.dropped, 0)
        t0 = time.monotonic()
        self.assertFalse(client.close(0.5))
        self.assertLess(time.monotonic() - t0, 2.0)

    def test_connection_refused(self):
        self.check_loop_stays_responsive("ws://127.0.0.1:%d" % free_port())

    def test_server_that_never_answers(self):
        hole = Blackhole()
        self.addCleanup(hole.close)
        self.check_loop_stays_responsive("ws://127.0.0.1:%d" % hole.port)

    def test_exit_is_bounded_when_server_hangs(self):
        hole = Blackhole()
        self.addCleanup(hole.close)
        script = textwrap.dedent("""
            import asyncio
            from ai_monitor_client import AIMonitorClient
            monitor = AIMonitorClient(server_url="ws://127.0.0.1:%d", exit_timeout=1.0)
            async def main():
                await monitor.connect(timeout=0.5)
                for i in range(100):
                    await monitor.log_interaction("q", "exit", [], 1, True)
            asyncio.run(main())
        """ % hole.port)
        env = dict((k, v) for k, v in os.environ.items() if not k.startswith("AI_MONITOR_"))
        env["PYTHONPATH"] = PY_ROOT + os.pathsep + env.get("PYTHONPATH", "")
        t0 = time.monotonic()
        proc = subprocess.run([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, timeout=30)
        elapsed = time.monotonic() - t0
        self.assertEqual(proc.returncode, 0, proc.stderr.decode())
        self.assertLess(elapsed, 6.0)


if __name__ == "__main__":
    unittest.main()

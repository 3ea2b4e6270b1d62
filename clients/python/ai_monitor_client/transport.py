"""Buffered, batched, retrying delivery of interaction records over HTTP.

Records are JSON-encoded when they are logged and appended to a bounded in-memory buffer.
One daemon thread per client takes batches from the head of the buffer and sends them with
``POST {http_base}/api/interactions`` (body ``{"data": [...]}``). A record leaves the buffer
only when the server has answered for it: stored (2xx) or refused as invalid. While the server
is unreachable (connection errors, timeouts, 5xx, 401/403, 404, 429) the batch stays at the
head of the buffer and is retried with exponential back-off and jitter.

Nothing here ever blocks the caller for longer than a short lock hold, and nothing raises
into the caller: the thread catches everything and keeps going.
"""

import collections
import http.client
import logging
import os
import random
import threading
import time
import urllib.error
import urllib.request
from typing import Any, Deque, Dict, List, Optional, Tuple

from ._util import is_loopback_host, parse_json, split_retry_after

__all__ = ["Transport"]

INGEST_PATH = "/api/interactions"
HEALTH_PATH = "/health"

# Buffer entry: (sequence number, record id or None, JSON text of the record).
_Entry = Tuple[int, Optional[str], str]

_BODY_PREFIX = b'{"data":['
_CUT_ERRORS = (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected)
_CUT_PREFIX = "connection cut: "
_BODY_SUFFIX = b"]}"


class _Outcome(object):
    """What the sender learnt from one request."""

    __slots__ = ("kind", "accepted", "rejected", "keep", "reason", "retry_after", "status", "reset")

    def __init__(self, kind, accepted=0, rejected=None, keep=None, reason="", retry_after=None,
                 status=None, reset=False):
        # kind: "done"    - the whole batch is settled (accepted and/or rejected);
        #       "partial" - records at `rejected` indices are invalid, the others (`keep`) were
        #                   not stored and are sent again;
        #       "shrink"  - nothing settled, send smaller batches (413 / undetailed 400);
        #       "drop"    - a single record the server refuses for good;
        #       "retry"   - the server is unreachable or refused us for now: back off.
        self.kind = kind
        self.accepted = accepted
        self.rejected = rejected or []  # list of (index, error)
        self.keep = keep or []  # indices to keep (partial)
        self.reason = reason
        self.retry_after = retry_after
        self.status = status
        # The connection was cut mid-request (reset, broken pipe): some servers and proxies
        # answer an oversized body that way instead of with 413.
        self.reset = reset


class Transport(object):
    def __init__(
        self,
        http_base: str,
        token: Optional[str] = None,
        max_buffer: int = 10000,
        batch_size: int = 500,
        max_batch_bytes: int = 512 * 1024,
        max_record_bytes: int = 1024 * 1024 - 1024,
        flush_interval: float = 0.5,
        request_timeout: float = 5.0,
        retry_base_delay: float = 0.5,
        retry_max_delay: float = 30.0,
        ssl_context: Any = None,
        user_agent: str = "ai-monitor-python",
        logger: Optional[logging.Logger] = None,
    ) -> None:
        self.http_base = http_base
        self.ingest_url = http_base + INGEST_PATH
        self.health_url = http_base + HEALTH_PATH
        self.token = token or None
        self.max_buffer = max(1, int(max_buffer))
        self.batch_size = max(1, int(batch_size))
        self.max_batch_bytes = max(1024, int(max_batch_bytes))
        self.max_record_bytes = max(1024, int(max_record_bytes))
        self.flush_interval = max(0.0, float(flush_interval))
        self.request_timeout = max(0.1, float(request_timeout))
        self.retry_base_delay = max(0.01, float(retry_base_delay))
        self.retry_max_delay = max(self.retry_base_delay, float(retry_max_delay))
        self.user_agent = user_agent
        self.log = logger or logging.getLogger("ai_monitor_client")

        handlers = []  # type: List[Any]
        # Loopback traffic never goes through an environment-configured proxy.
        handlers.append(urllib.request.ProxyHandler({} if is_loopback_host(http_base) else None))
        if ssl_context is not None:
            handlers.append(urllib.request.HTTPSHandler(context=ssl_context))
        self._opener = urllib.request.build_opener(*handlers)

        # Counters (read without the lock; ints are updated under it).
        self.sent = 0  # records the server stored
        self.rejected = 0  # records the server refused as invalid (dropped, never retried)
        self.dropped = 0  # records not buffered: buffer full, too large, or client closed
        self.failed_requests = 0  # requests that failed and will be retried
        self.requests = 0  # requests sent
        self.last_error = None  # type: Optional[str]
        self.last_rejections = collections.deque(maxlen=100)  # type: Deque[Dict[str, Any]]
        self.server_reachable = None  # type: Optional[bool]

        self._init_sync_state()
        self._buf = collections.deque()  # type: Deque[_Entry]
        self._seq = 0
        self._closed = False

    # --- state -------------------------------------------------------------------------

    def _init_sync_state(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._pid = os.getpid()
        self._thread = None  # type: Optional[threading.Thread]
        self._inflight = 0
        self._flush_waiters = 0
        self._kick = False
        self._failures = 0
        self._next_attempt = 0.0
        self._batch_deadline = None  # type: Optional[float]
        self._batch_limit = self.batch_size
        self._byte_limit = self.max_batch_bytes

    def _check_fork(self) -> None:
        # After fork() the child has a copy of the buffer but no sender thread, and the lock may
        # have been copied while held. Start afresh; the records' ids make any record sent by
        # both processes count once on the server.
        if self._pid != os.getpid():
            self._init_sync_state()

    def _ensure_thread(self) -> None:
        # Called with the lock held.
        if self._closed:
            return
        if self._thread is None or not self._thread.is_alive():
            t = threading.Thread(target=self._run, name="ai-monitor-sender", daemon=True)
            self._thread = t
            t.start()

    @property
    def buffered(self) -> int:
        return len(self._buf)

    @property
    def closed(self) -> bool:
        return self._closed

    # --- producer side -----------------------------------------------------------------

    def enqueue(self, record_json: str, record_id: Optional[str] = None) -> bool:
        """Append one encoded record. O(1); returns False when it was dropped."""
        self._check_fork()
        if len(record_json) > self.max_record_bytes:
            with self._cond:
                self.dropped += 1
            self.log.warning(
                "ai-monitor: record %s dropped: %d bytes is over the %d-byte limit",
                record_id, len(record_json), self.max_record_bytes,
            )
            return False
        with self._cond:
            if self._closed:
                self.dropped += 1
                return False
            if len(self._buf) >= self.max_buffer:
                self.dropped += 1
                n = self.dropped
                if n == 1 or n % 1000 == 0:
                    self.log.warning(
                        "ai-monitor: buffer full (%d records), %d record(s) dropped so far",
                        self.max_buffer, n,
                    )
                return False
            self._seq += 1
            self._buf.append((self._seq, record_id, record_json))
            if len(self._buf) - self._inflight >= self._batch_limit:
                self._cond.notify_all()
            self._ensure_thread()
            return True

    def start(self) -> None:
        self._check_fork()
        with self._cond:
            self._ensure_thread()

    # --- flushing ----------------------------------------------------------------------

    def begin_flush(self) -> int:
        """Register a flush: returns the sequence number that must be settled."""
        self._check_fork()
        with self._cond:
            self._flush_waiters += 1
            self._kick = True
            self._ensure_thread()
            self._cond.notify_all()
            return self._seq

    def end_flush(self) -> None:
        with self._cond:
            self._flush_waiters = max(0, self._flush_waiters - 1)

    def settled(self, target: int) -> bool:
        """True when every record enqueued up to `target` has been delivered or refused."""
        buf = self._buf
        try:
            return not buf or buf[0][0] > target
        except IndexError:  # emptied concurrently
            return True

    def flush(self, timeout: Optional[float] = 5.0) -> bool:
        """Block until the records buffered now are delivered (True) or `timeout` passes."""
        target = self.begin_flush()
        try:
            deadline = None if timeout is None else time.monotonic() + max(0.0, timeout)
            with self._cond:
                while not self.settled(target):
                    if self._closed:
                        return False
                    if deadline is None:
                        self._cond.wait(1.0)
                        continue
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        return False
                    self._cond.wait(min(remaining, 1.0))
                return True
        finally:
            self.end_flush()

    def close(self, timeout: Optional[float] = 5.0) -> bool:
        """Flush (up to `timeout`), then stop the sender. Later records are dropped."""
        if self._closed:
            return not self._buf
        ok = self.flush(timeout)
        with self._cond:
            self._closed = True
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(0.5)
        return ok

    def stop_when_drained(self) -> None:
        """Garbage-collection hook: nothing blocks; the thread stops once the buffer is empty."""
        with self._cond:
            self._drain_then_stop = True
            self._cond.notify_all()

    _drain_then_stop = False

    # --- sender thread -----------------------------------------------------------------

    def _run(self) -> None:
        me = threading.current_thread()
        while True:
            with self._cond:
                if self._thread is not me:  # replaced after fork
                    return
                batch = self._next_batch()
                if batch is None:
                    self._thread = None
                    return
            try:
                outcome = self._deliver(batch)
            except Exception as exc:  # never let the thread die
                outcome = _Outcome("retry", reason="internal error: %r" % (exc,))
            with self._cond:
                try:
                    self._apply(batch, outcome)
                except Exception:  # pragma: no cover - defensive
                    self.log.exception("ai-monitor: internal error while applying a reply")
                    self._inflight = 0
                self._cond.notify_all()

    def _next_batch(self) -> Optional[List[_Entry]]:
        # Called with the lock held. Waits for work, back-off and the batching window.
        while True:
            if self._closed:
                return None
            if not self._buf:
                if self._drain_then_stop:
                    return None
                self._batch_deadline = None
                self._cond.wait(1.0)
                continue
            now = time.monotonic()
            if self._kick:
                self._kick = False
                self._next_attempt = 0.0
            if now < self._next_attempt:
                self._cond.wait(min(self._next_attempt - now, 1.0))
                continue
            if (
                not self._flush_waiters
                and not self._drain_then_stop
                and len(self._buf) < self._batch_limit
                and self.flush_interval > 0
            ):
                if self._batch_deadline is None:
                    self._batch_deadline = now + self.flush_interval
                if now < self._batch_deadline:
                    self._cond.wait(self._batch_deadline - now)
                    continue
            self._batch_deadline = None
            return self._take_batch()

    def _take_batch(self) -> List[_Entry]:
        batch = []  # type: List[_Entry]
        size = len(_BODY_PREFIX) + len(_BODY_SUFFIX)
        for entry in self._buf:
            n = len(entry[2]) + 1
            if batch and (len(batch) >= self._batch_limit or size + n > self._byte_limit):
                break
            batch.append(entry)
            size += n
        self._inflight = len(batch)
        return batch

    def _deliver(self, batch: List[_Entry]) -> _Outcome:
        body = _BODY_PREFIX + b",".join(e[2].encode("ascii") for e in batch) + _BODY_SUFFIX
        status, data, headers, error = self._request("POST", self.ingest_url, body)
        self.requests += 1
        if status is None:
            return _Outcome("retry", reason=error or "request failed",
                            reset=bool(error) and error.startswith(_CUT_PREFIX))
        reply = parse_json(data) if data else None
        if 200 <= status < 300:
            accepted = len(batch)
            rejected = _rejections(reply, len(batch))
            if isinstance(reply, dict) and isinstance(reply.get("accepted"), int):
                accepted = reply["accepted"]
            else:
                accepted = len(batch) - len(rejected)
            return _Outcome("done", accepted=accepted, rejected=rejected, status=status)
        if status == 413:
            if len(batch) > 1:
                return _Outcome("shrink", reason="413 request too large", status=status)
            return _Outcome("drop", reason="record too large for the server (413)", status=status)
        if status in (401, 403):
            return _Outcome(
                "retry", status=status,
                reason="HTTP %d: ingest refused, check the token (AI_MONITOR_TOKEN)%s"
                % (status, _detail(reply, data)),
            )
        if status in (404, 405, 408, 425, 429) or status >= 500:
            return _Outcome(
                "retry", status=status, reason="HTTP %d%s" % (status, _detail(reply, data)),
                retry_after=split_retry_after(headers.get("Retry-After") if headers else None),
            )
        # Any other 4xx (400, 422, ...): the server refuses (some of) the records as invalid.
        rejected = _rejections(reply, len(batch))
        accepted = reply.get("accepted") if isinstance(reply, dict) else None
        if rejected:
            if isinstance(accepted, int) and accepted > 0:
                # Mixed reply with an error status: the others were stored.
                return _Outcome("done", accepted=accepted, rejected=rejected, status=status)
            bad = set(i for i, _ in rejected)
            keep = [i for i in range(len(batch)) if i not in bad]
            if not keep:
                return _Outcome("done", accepted=0, rejected=rejected, status=status)
            return _Outcome("partial", rejected=rejected, keep=keep, status=status)
        reason = "HTTP %d%s" % (status, _detail(reply, data))
        if len(batch) > 1:
            return _Outcome("shrink", reason=reason, status=status)
        return _Outcome("drop", reason=reason, status=status)

    def _apply(self, batch: List[_Entry], outcome: _Outcome) -> None:
        # Called with the lock held.
        self._inflight = 0
        kind = outcome.kind
        if kind == "retry":
            self.failed_requests += 1
            self._failures += 1
            self.last_error = outcome.reason
            delay = min(self.retry_max_delay, self.retry_base_delay * (2 ** min(self._failures - 1, 20)))
            delay = random.uniform(delay / 2.0, delay)
            if outcome.retry_after is not None:
                delay = max(delay, min(outcome.retry_after, self.retry_max_delay))
            self._next_attempt = time.monotonic() + delay
            self._batch_deadline = 0.0  # send as soon as the back-off ends
            if outcome.reset and len(batch) > 1:
                self._batch_limit = max(1, len(batch) // 2)
            if self.server_reachable is not False:
                self.log.warning(
                    "ai-monitor: cannot deliver to %s (%s); keeping %d record(s) buffered and retrying",
                    self.ingest_url, outcome.reason, len(self._buf),
                )
            self.server_reachable = False
            return

        if self.server_reachable is False:
            self.log.info("ai-monitor: delivering to %s again", self.ingest_url)
        self.server_reachable = True
        self._failures = 0
        self._next_attempt = 0.0

        if kind == "shrink":
            self._batch_limit = max(1, len(batch) // 2)
            if outcome.status == 413:
                size = sum(len(e[2]) + 1 for e in batch)
                self._byte_limit = max(1024, min(self._byte_limit, size // 2))
            self._batch_deadline = 0.0
            return

        removed = self._pop_head(batch)
        if kind == "done":
            rejected = outcome.rejected
            self.sent += max(0, len(removed) - len(rejected))
            self._note_rejections(removed, rejected)
            self._batch_limit = self.batch_size
        elif kind == "partial":
            self._note_rejections(removed, outcome.rejected)
            for i in reversed(outcome.keep):
                if i < len(removed):
                    self._buf.appendleft(removed[i])
            self._batch_deadline = 0.0
        elif kind == "drop":
            self._note_rejections(removed, [(i, outcome.reason) for i in range(len(removed))])
            self._batch_deadline = 0.0

    def _pop_head(self, batch: List[_Entry]) -> List[_Entry]:
        removed = []  # type: List[_Entry]
        for entry in batch:
            if self._buf and self._buf[0] is entry:
                removed.append(self._buf.popleft())
            else:  # pragma: no cover - the head only changes in this thread
                break
        return removed

    def _note_rejections(self, removed: List[_Entry], rejected: List[Tuple[int, str]]) -> None:
        if not rejected:
            return
        self.rejected += len(rejected)
        for n, (i, error) in enumerate(rejected):
            rid = removed[i][1] if 0 <= i < len(removed) else None
            self.last_rejections.append({"id": rid, "error": error})
            if n < 5:
                self.log.warning("ai-monitor: server rejected record %s: %s", rid, error)
        if len(rejected) > 5:
            self.log.warning("ai-monitor: ... and %d more rejected record(s)", len(rejected) - 5)

    # --- HTTP ------------------------------------------------------------------------------

    def _request(
        self, method: str, url: str, body: Optional[bytes] = None, timeout: Optional[float] = None
    ) -> Tuple[Optional[int], bytes, Any, Optional[str]]:
        headers = {"User-Agent": self.user_agent, "Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = "Bearer " + self.token
        req = urllib.request.Request(url, data=body, headers=headers, method=method)
        try:
            resp = self._opener.open(req, timeout=timeout or self.request_timeout)
            try:
                return resp.getcode(), resp.read(), resp.headers, None
            finally:
                resp.close()
        except urllib.error.HTTPError as exc:
            try:
                data = exc.read()
            except Exception:
                data = b""
            return exc.code, data or b"", exc.headers, None
        except urllib.error.URLError as exc:
            reason = exc.reason
            if isinstance(reason, _CUT_ERRORS):
                return None, b"", None, "%s%s: %s" % (_CUT_PREFIX, type(reason).__name__, reason)
            return None, b"", None, "%s" % (reason,)
        except _CUT_ERRORS as exc:
            return None, b"", None, "%s%s: %s" % (_CUT_PREFIX, type(exc).__name__, exc)
        except (OSError, http.client.HTTPException, ValueError) as exc:
            return None, b"", None, "%s: %s" % (type(exc).__name__, exc)

    def health(self, timeout: float = 3.0) -> Tuple[bool, Any]:
        """GET /health. Returns (healthy, parsed reply or error text). Never raises."""
        try:
            status, data, _headers, error = self._request("GET", self.health_url, timeout=timeout)
        except Exception as exc:  # pragma: no cover - defensive
            return False, repr(exc)
        if status is None:
            return False, error
        reply = parse_json(data)
        return (200 <= status < 300), (reply if reply is not None else data.decode("utf-8", "replace"))

    def stats(self) -> Dict[str, Any]:
        return {
            "buffered": len(self._buf),
            "sent": self.sent,
            "rejected": self.rejected,
            "dropped": self.dropped,
            "requests": self.requests,
            "failed_requests": self.failed_requests,
            "server_reachable": self.server_reachable,
            "last_error": self.last_error,
        }


def _rejections(reply: Any, n: int) -> List[Tuple[int, str]]:
    """The (index, error) pairs of a reply's `rejected` list that fall inside the batch."""
    out = []  # type: List[Tuple[int, str]]
    if not isinstance(reply, dict):
        return out
    items = reply.get("rejected")
    if not isinstance(items, list):
        return out
    seen = set()
    for item in items:
        if not isinstance(item, dict):
            continue
        idx = item.get("index")
        if isinstance(idx, bool) or not isinstance(idx, int) or not 0 <= idx < n or idx in seen:
            continue
        seen.add(idx)
        out.append((idx, str(item.get("error", "rejected"))))
    return out


def _detail(reply: Any, data: bytes) -> str:
    if isinstance(reply, dict):
        for key in ("error", "message"):
            if isinstance(reply.get(key), str):
                return ": " + reply[key][:300]
    if data:
        return ": " + data[:300].decode("utf-8", "replace")
    return ""

"""AIMonitorClient: the seed's client API on top of a buffered HTTP transport."""

import asyncio
import atexit
import datetime
import logging
import numbers
import os
import threading
import time
import weakref
from typing import Any, Dict, List, Optional

from ._util import (
    DEFAULT_SERVER_URL,
    default_session_id,
    dumps_record,
    env_flag,
    format_timestamp,
    http_base_from_server_url,
    new_id,
    utc_now_iso,
)
from .transport import Transport

__all__ = ["AIMonitorClient", "OPTIONAL_FIELDS"]

__version__ = "0.1.0"

log = logging.getLogger("ai_monitor_client")
# A library logs, the application decides where to: silent unless logging is configured.
log.addHandler(logging.NullHandler())

#: Optional record fields accepted as keyword arguments of ``log_interaction``.
OPTIONAL_FIELDS = (
    "assistant",
    "version",
    "environment",
    "model",
    "user_id",
    "input_tokens",
    "output_tokens",
    "cost_usd",
    "feedback_score",
    "metadata",
)

_LABEL_FIELDS = ("assistant", "version", "environment", "model")

_live_clients = weakref.WeakSet()  # type: weakref.WeakSet
_live_lock = threading.Lock()


def _flush_all_at_exit() -> None:
    """Flush every live client at interpreter exit, all within the longest exit_timeout."""
    with _live_lock:
        clients = [c for c in _live_clients if c._flush_at_exit and c._transport.buffered]
    if not clients:
        return
    deadline = time.monotonic() + max(c._exit_timeout for c in clients)
    for client in clients:
        try:
            client._transport.flush(max(0.0, deadline - time.monotonic()))
        except Exception:  # pragma: no cover - never fail the interpreter's exit
            pass


atexit.register(_flush_all_at_exit)


def _truncate(text: Any, limit: int) -> str:
    if text is None:
        return ""
    if not isinstance(text, str):
        text = str(text)
    if limit is not None and limit >= 0 and len(text) > limit:
        return text[:limit]
    return text


#: Labels longer than this are cut (the server refuses longer ones, and losing a whole record
#: to a long error name would be worse).
MAX_LABEL = 200
MAX_TOOL_ERROR = 2000


def _label(value: Any) -> Optional[str]:
    if value is None:
        return None
    return _truncate(value, MAX_LABEL)


def _to_ms(value: Any) -> Any:
    """Response time in milliseconds; timedelta is converted, numbers are kept as they are
    (invalid values such as negatives are sent and refused by the server's validation)."""
    if isinstance(value, datetime.timedelta):
        return value.total_seconds() * 1000.0
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        f = float(value)
        return int(f) if f.is_integer() else f
    if isinstance(value, str):
        try:
            f = float(value)
        except ValueError:
            return value
        return int(f) if f.is_integer() else f
    return value


def _normalize_tools(tools: Any) -> List[Dict[str, Any]]:
    """Accept the seed's ``[{"tool": ..., "params": {...}}]`` and a few lenient shapes:
    tool names as strings, ``(tool, params)`` pairs, ``name`` instead of ``tool``."""
    if tools is None:
        return []
    if isinstance(tools, (str, dict)):
        tools = [tools]
    out = []  # type: List[Dict[str, Any]]
    try:
        items = list(tools)
    except TypeError:
        items = [tools]
    for item in items:
        if isinstance(item, str):
            out.append({"tool": item, "params": {}})
            continue
        if isinstance(item, (tuple, list)) and item and isinstance(item[0], str):
            params = item[1] if len(item) > 1 else {}
            item = {"tool": item[0], "params": params}
        if not isinstance(item, dict):
            out.append({"tool": str(item), "params": {}})
            continue
        entry = dict(item)
        if "tool" not in entry and "name" in entry:
            entry["tool"] = entry.pop("name")
        if isinstance(entry.get("tool"), str):
            entry["tool"] = _truncate(entry["tool"], MAX_LABEL)
        params = entry.get("params")
        if params is None:
            entry["params"] = {}
        elif not isinstance(params, dict):
            entry["params"] = {"value": params}
        for key in ("duration_ms", "success", "error"):
            if key in entry and entry[key] is None:
                del entry[key]
        if "duration_ms" in entry:
            entry["duration_ms"] = _to_ms(entry["duration_ms"])
        if "error" in entry and isinstance(entry["error"], BaseException):
            entry["error"] = _exception_text(entry["error"])
        if isinstance(entry.get("error"), str):
            entry["error"] = _truncate(entry["error"], MAX_TOOL_ERROR)
        out.append(entry)
    return out


def _exception_text(exc: BaseException) -> str:
    msg = str(exc)
    return "%s: %s" % (type(exc).__name__, msg) if msg else type(exc).__name__


class AIMonitorClient(object):
    """Reports AI-assistant interactions to an ai-monitor server.

    The seed's API::

        monitor = AIMonitorClient(server_url="ws://localhost:8765")
        await monitor.connect()
        await monitor.log_interaction(user_input="...", intent="...",
                                      tools_used=[{"tool": "read", "params": {}}],
                                      response_time=1500, success=True, error_type=None)

    ``log_interaction`` never blocks and never raises: records go to a bounded in-memory buffer
    and a daemon thread ships them in batches over HTTP (``POST /api/interactions``), retrying
    with back-off while the server is unreachable. Buffered records are flushed at interpreter
    exit (up to ``exit_timeout`` seconds).
    """

    def __init__(
        self,
        server_url: Optional[str] = None,
        token: Optional[str] = None,
        session_id: Optional[str] = None,
        assistant: Optional[str] = None,
        version: Optional[str] = None,
        model: Optional[str] = None,
        user_id: Optional[str] = None,
        environment: Optional[str] = None,
        max_buffer: int = 10000,
        batch_size: int = 500,
        max_batch_bytes: int = 512 * 1024,
        flush_interval: float = 0.5,
        request_timeout: float = 5.0,
        retry_base_delay: float = 0.5,
        retry_max_delay: float = 30.0,
        max_user_input: int = 200,
        generate_ids: bool = True,
        flush_at_exit: bool = True,
        exit_timeout: float = 2.0,
        enabled: Optional[bool] = None,
        ssl_context: Any = None,
        http_url: Optional[str] = None,
    ) -> None:
        """
        :param server_url: the seed's WebSocket URL (``ws://host:8765``, ``wss://...``) or an
            ``http(s)://`` URL. Default: env ``AI_MONITOR_URL``, else ``ws://localhost:8765``.
        :param token: ingest token sent as ``Authorization: Bearer``; default env
            ``AI_MONITOR_TOKEN``.
        :param session_id: default session id; the seed's ``YYYYmmdd_HHMMSS`` of the client's
            creation (local time) when not given.
        :param assistant, version, model, user_id, environment: defaults added to every record.
        :param max_buffer: records held in memory while undelivered; more are dropped and
            counted in ``dropped``.
        :param batch_size, max_batch_bytes: the most records / bytes in one request.
        :param flush_interval: seconds a partial batch waits for company before it is sent.
        :param request_timeout: seconds per HTTP request.
        :param retry_base_delay, retry_max_delay: exponential back-off bounds (seconds).
        :param max_user_input: ``user_input`` is cut to this many characters (seed: 200).
        :param generate_ids: give each record a client-side ULID ``id`` (the server's
            idempotency key), so a retried batch is never stored twice.
        :param flush_at_exit, exit_timeout: flush at interpreter exit, for at most this long.
        :param enabled: False turns the client into a no-op; default env ``AI_MONITOR_ENABLED``.
        :param ssl_context: an ``ssl.SSLContext`` for ``https``/``wss`` servers.
        :param http_url: explicit HTTP base URL, overriding the one derived from server_url.
        """
        if server_url is None:
            server_url = os.environ.get("AI_MONITOR_URL") or DEFAULT_SERVER_URL
        if token is None:
            token = os.environ.get("AI_MONITOR_TOKEN") or None
        if enabled is None:
            enabled = env_flag("AI_MONITOR_ENABLED", True)
        self.server_url = server_url
        self.http_url = http_base_from_server_url(http_url or server_url)
        self.session_id = session_id or default_session_id()
        self.enabled = bool(enabled)
        self.max_user_input = max_user_input
        self.generate_ids = bool(generate_ids)
        self.defaults = {}  # type: Dict[str, Any]
        for key, value in (("assistant", assistant), ("version", version), ("model", model),
                           ("user_id", user_id), ("environment", environment)):
            if value is not None:
                self.defaults[key] = _label(value) if key in _LABEL_FIELDS else value
        self.connected = False
        self._flush_at_exit = bool(flush_at_exit)
        self._exit_timeout = float(exit_timeout)
        self._transport = Transport(
            self.http_url,
            token=token,
            max_buffer=max_buffer,
            batch_size=batch_size,
            max_batch_bytes=max_batch_bytes,
            flush_interval=flush_interval,
            request_timeout=request_timeout,
            retry_base_delay=retry_base_delay,
            retry_max_delay=retry_max_delay,
            ssl_context=ssl_context,
            user_agent="ai-monitor-python/" + __version__,
            logger=log,
        )
        with _live_lock:
            _live_clients.add(self)
        # When the client is garbage-collected, let its thread finish what is buffered and stop.
        fin = weakref.finalize(self, self._transport.stop_when_drained)
        fin.atexit = False

    # --- the seed's API ------------------------------------------------------------------

    async def connect(self, timeout: float = 3.0) -> bool:
        """Check that the server is reachable (``GET /health``) and start the sender.

        Returns True when the server answered healthy, False otherwise; never raises, and
        logging works either way (records are buffered until the server is reachable).
        """
        try:
            self._transport.start()
            loop = asyncio.get_event_loop()
            ok = await loop.run_in_executor(None, self.check_health, timeout)
        except Exception as exc:
            log.debug("ai-monitor: connect failed: %r", exc)
            ok = False
        self.connected = ok
        return ok

    def check_health(self, timeout: float = 3.0) -> bool:
        """Synchronous health check (``GET /health``): True when the server is healthy."""
        try:
            ok, detail = self._transport.health(timeout)
        except Exception as exc:  # pragma: no cover - defensive
            ok, detail = False, repr(exc)
        if not ok:
            log.info("ai-monitor: server %s not healthy: %s", self.http_url, detail)
        return ok

    async def log_interaction(
        self,
        user_input: Any = "",
        intent: Any = None,
        tools_used: Any = None,
        response_time: Any = 0,
        success: Any = True,
        error_type: Any = None,
        **fields: Any
    ) -> Optional[str]:
        """Record one interaction (the seed's signature; ``response_time`` in ms).

        Extra keyword arguments: ``session_id``, ``id``, ``timestamp`` and the optional record
        fields (assistant, version, environment, model, user_id, input_tokens, output_tokens,
        cost_usd, feedback_score, metadata); any other keyword goes into ``metadata``. Returns the
        record's id (None when the record was dropped, the client is disabled, or
        ``generate_ids`` is off and no id was given). Never blocks, never raises.
        """
        return self.log_interaction_sync(
            user_input, intent, tools_used, response_time, success, error_type, **fields
        )

    def log_interaction_sync(
        self,
        user_input: Any = "",
        intent: Any = None,
        tools_used: Any = None,
        response_time: Any = 0,
        success: Any = True,
        error_type: Any = None,
        **fields: Any
    ) -> Optional[str]:
        """Synchronous twin of :meth:`log_interaction`, for code without an event loop."""
        if not self.enabled:
            return None
        try:
            record = self.build_record(
                user_input, intent, tools_used, response_time, success, error_type, **fields
            )
            rid = record.get("id")
            if self._transport.enqueue(dumps_record(record), rid):
                return rid
            return None
        except Exception as exc:  # never raise into the assistant
            log.warning("ai-monitor: could not record an interaction: %r", exc)
            return None

    def build_record(
        self,
        user_input: Any = "",
        intent: Any = None,
        tools_used: Any = None,
        response_time: Any = 0,
        success: Any = True,
        error_type: Any = None,
        **fields: Any
    ) -> Dict[str, Any]:
        """The wire record (snake_case, as the seed sends it) for these arguments."""
        if "response_time_ms" in fields:
            response_time = fields.pop("response_time_ms")
        rid = fields.pop("id", None)
        if rid is None and self.generate_ids:
            rid = new_id()
        session_id = fields.pop("session_id", None) or self.session_id
        timestamp = fields.pop("timestamp", None)
        record = {}  # type: Dict[str, Any]
        if rid is not None:
            record["id"] = str(rid)
        record["session_id"] = str(session_id)
        record["timestamp"] = (
            utc_now_iso() if timestamp is None else format_timestamp(timestamp)
        )
        record["user_input"] = _truncate(user_input, self.max_user_input)
        record["intent"] = "unknown" if intent is None else _label(intent)
        record["tools_used"] = _normalize_tools(tools_used)
        record["response_time_ms"] = _to_ms(response_time)
        record["success"] = success if isinstance(success, bool) else bool(success)
        if isinstance(error_type, type) and issubclass(error_type, BaseException):
            error_type = error_type.__name__
        elif isinstance(error_type, BaseException):
            error_type = type(error_type).__name__
        record["error_type"] = _label(error_type)

        for key, value in self.defaults.items():
            record[key] = value
        extra_metadata = {}  # type: Dict[str, Any]
        for key, value in fields.items():
            if key in OPTIONAL_FIELDS:
                if value is not None:
                    record[key] = _label(value) if key in _LABEL_FIELDS else value
                else:
                    record.pop(key, None)
            else:
                extra_metadata[key] = value
        if extra_metadata:
            metadata = record.get("metadata")
            merged = dict(metadata) if isinstance(metadata, dict) else {}
            if metadata is not None and not isinstance(metadata, dict):
                merged["value"] = metadata
            merged.update(extra_metadata)
            record["metadata"] = merged
        elif "metadata" in record and not isinstance(record["metadata"], dict):
            record["metadata"] = {"value": record["metadata"]}
        return record

    # --- tracking ----------------------------------------------------------------------------

    def track_interaction(self, user_input: Any = "", intent: Any = None, **fields: Any):
        """A context manager (``with`` / ``async with``) that times one interaction and records
        it on exit; see :class:`ai_monitor_client.tracker.TrackedInteraction`."""
        from .tracker import TrackedInteraction

        return TrackedInteraction(self, user_input, intent, **fields)

    # --- delivery control --------------------------------------------------------------------

    def flush(self, timeout: Optional[float] = 5.0) -> bool:
        """Block until every record logged so far is delivered (True) or ``timeout`` seconds
        pass (False). Do not call it from an event loop; use :meth:`aflush` there."""
        try:
            return self._transport.flush(timeout)
        except Exception as exc:  # pragma: no cover - defensive
            log.warning("ai-monitor: flush failed: %r", exc)
            return False

    async def aflush(self, timeout: Optional[float] = 5.0) -> bool:
        """Like :meth:`flush`, without blocking the event loop."""
        transport = self._transport
        try:
            target = transport.begin_flush()
        except Exception:  # pragma: no cover - defensive
            return False
        try:
            loop = asyncio.get_event_loop()
            deadline = None if timeout is None else loop.time() + max(0.0, timeout)
            pause = 0.002
            while not transport.settled(target):
                if transport.closed:
                    return False
                if deadline is not None and loop.time() >= deadline:
                    return False
                await asyncio.sleep(pause)
                pause = min(pause * 2, 0.05)
            return True
        finally:
            transport.end_flush()

    def close(self, timeout: Optional[float] = 5.0) -> bool:
        """Flush (up to ``timeout``) and stop the sender thread. Records logged afterwards are
        dropped. Returns True when everything was delivered."""
        try:
            ok = self._transport.close(timeout)
        except Exception:  # pragma: no cover - defensive
            ok = False
        self.connected = False
        return ok

    async def aclose(self, timeout: Optional[float] = 5.0) -> bool:
        """Like :meth:`close`, without blocking the event loop."""
        ok = await self.aflush(timeout)
        self.close(0)
        return ok

    # the seed's client had a WebSocket; keep the obvious names working
    async def disconnect(self) -> None:
        await self.aclose()

    def __enter__(self) -> "AIMonitorClient":
        return self

    def __exit__(self, *exc_info: Any) -> bool:
        self.close()
        return False

    async def __aenter__(self) -> "AIMonitorClient":
        await self.connect()
        return self

    async def __aexit__(self, *exc_info: Any) -> bool:
        await self.aclose()
        return False

    # --- introspection -----------------------------------------------------------------------

    @property
    def dropped(self) -> int:
        """Records that were not buffered (buffer full, record too large, or client closed)."""
        return self._transport.dropped

    @property
    def sent(self) -> int:
        """Records the server acknowledged as stored."""
        return self._transport.sent

    @property
    def rejected(self) -> int:
        """Records the server refused as invalid (dropped, never retried)."""
        return self._transport.rejected

    @property
    def buffered(self) -> int:
        """Records waiting in the buffer (including the batch being sent)."""
        return self._transport.buffered

    @property
    def last_rejections(self) -> List[Dict[str, Any]]:
        """The most recent refused records, as ``{"id": ..., "error": "field: reason"}``."""
        return list(self._transport.last_rejections)

    def stats(self) -> Dict[str, Any]:
        """Counters: buffered, sent, rejected, dropped, requests, failed_requests,
        server_reachable, last_error."""
        return self._transport.stats()

    def __repr__(self) -> str:
        return "AIMonitorClient(server_url=%r, session_id=%r)" % (self.server_url, self.session_id)


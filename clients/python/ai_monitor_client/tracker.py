"""The seed's middleware: ``tracker.track_interaction(user_input)`` as a context manager.

::

    from ai_realtime_tracker import tracker

    with tracker.track_interaction(request.user_input) as t:   # or: async with
        intent = await understand_intent(request)
        t.log_intent(intent)
        result = await execute(intent)
        t.log_tool_use(result.tool, result.params)
        return result   # completion (response time, success) is recorded automatically

On exit the response time is measured; a normal exit records ``success=True``, an exception
records ``success=False`` with ``error_type`` set to the exception's class name, and the
exception propagates unchanged (it is never swallowed).
"""

import logging
import threading
import time
from typing import Any, Dict, List, Optional

from ._util import DEFAULT_SERVER_URL, new_id, utc_now_iso
from .client import AIMonitorClient, _exception_text

__all__ = ["Tracker", "TrackedInteraction", "ToolTimer"]

log = logging.getLogger("ai_monitor_client")


def _elapsed_ms(start: float) -> int:
    return int(round((time.perf_counter() - start) * 1000.0))


class ToolTimer(object):
    """Times one tool call: ``with t.tool("read", {"path": p}):`` (also ``async with``).
    Records the call with its ``duration_ms``, ``success`` and, on an exception, ``error``."""

    def __init__(self, interaction: "TrackedInteraction", tool: str,
                 params: Optional[Dict[str, Any]] = None) -> None:
        self.interaction = interaction
        self.tool = tool
        self.params = params if params is not None else {}
        self._start = None  # type: Optional[float]

    def __enter__(self) -> "ToolTimer":
        self._start = time.perf_counter()
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        try:
            duration = _elapsed_ms(self._start) if self._start is not None else None
            self.interaction.log_tool_use(
                self.tool, self.params, duration_ms=duration, success=exc_type is None,
                error=(_exception_text(exc) if exc is not None
                       else (exc_type.__name__ if exc_type is not None else None)),
            )
        except Exception:  # pragma: no cover - defensive
            pass
        return False

    async def __aenter__(self) -> "ToolTimer":
        return self.__enter__()

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        return self.__exit__(exc_type, exc, tb)


class TrackedInteraction(object):
    """One interaction being tracked. Created by ``track_interaction``; use it as a context
    manager. Its methods never raise."""

    def __init__(self, client: AIMonitorClient, user_input: Any = "", intent: Any = None,
                 **fields: Any) -> None:
        self.client = client
        self.user_input = user_input
        self.intent = intent
        self.tools_used = []  # type: List[Dict[str, Any]]
        rid = fields.pop("id", None)
        if rid is None and client.generate_ids:
            rid = new_id()
        #: The record's id (known before the interaction is recorded).
        self.id = rid  # type: Optional[str]
        self.fields = fields  # type: Dict[str, Any]
        self.success = None  # type: Optional[bool]
        self.error_type = None  # type: Optional[str]
        self.response_time_ms = None  # type: Optional[int]
        self.recorded = False
        self._start = None  # type: Optional[float]
        self._timestamp = None  # type: Optional[str]
        self._lock = threading.Lock()

    # --- what happened --------------------------------------------------------------------

    def log_intent(self, intent: Any) -> None:
        """The intent the assistant understood."""
        self.intent = intent

    def log_tool_use(self, tool: Any, params: Optional[Dict[str, Any]] = None,
                     duration_ms: Any = None, success: Optional[bool] = None,
                     error: Any = None, **extra: Any) -> None:
        """One tool call: name and parameters, optionally its duration (ms), outcome and
        error (a string or an exception)."""
        try:
            entry = {"tool": str(tool), "params": params if params is not None else {}}
            if duration_ms is not None:
                entry["duration_ms"] = duration_ms
            if success is not None:
                entry["success"] = bool(success)
            if error is not None:
                entry["error"] = (_exception_text(error) if isinstance(error, BaseException)
                                  else str(error))
            entry.update(extra)
            with self._lock:
                self.tools_used.append(entry)
        except Exception as exc:  # pragma: no cover - defensive
            log.debug("ai-monitor: log_tool_use failed: %r", exc)

    def tool(self, tool: str, params: Optional[Dict[str, Any]] = None) -> ToolTimer:
        """A context manager that times one tool call and logs it on exit."""
        return ToolTimer(self, tool, params)

    def set(self, **fields: Any) -> None:
        """Set other record fields: model, input_tokens, output_tokens, cost_usd,
        feedback_score, metadata, session_id, user_id, ..."""
        self.fields.update(fields)

    def fail(self, error_type: Any = "Error") -> None:
        """Mark the interaction failed without raising (e.g. the assistant answered with an
        apology). ``error_type`` may be a string, an exception or an exception class."""
        self.success = False
        if isinstance(error_type, BaseException):
            error_type = type(error_type).__name__
        elif isinstance(error_type, type):
            error_type = error_type.__name__
        self.error_type = None if error_type is None else str(error_type)

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> "TrackedInteraction":
        if self._start is None:
            self._start = time.perf_counter()
            self._timestamp = utc_now_iso()
        return self

    def finish(self, success: Optional[bool] = None, error_type: Any = None) -> Optional[str]:
        """Record the interaction now (called by the context manager; only the first call
        records). Returns the record's id, or None when nothing was recorded."""
        with self._lock:
            if self.recorded:
                return None
            self.recorded = True
            tools = list(self.tools_used)
        try:
            if self._start is None:
                self.start()
            self.response_time_ms = _elapsed_ms(self._start)
            if success is not None:
                self.success = bool(success)
            if error_type is not None:
                self.fail(error_type)
            ok = True if self.success is None else self.success
            fields = dict(self.fields)
            fields.setdefault("timestamp", self._timestamp)
            if self.id is not None:
                fields["id"] = self.id
            return self.client.log_interaction_sync(
                user_input=self.user_input,
                intent=self.intent,
                tools_used=tools,
                response_time=self.response_time_ms,
                success=ok,
                error_type=self.error_type if not ok else None,
                **fields
            )
        except Exception as exc:  # never raise into the assistant
            log.warning("ai-monitor: could not record a tracked interaction: %r", exc)
            return None

    def _exit(self, exc_type: Any) -> bool:
        if exc_type is not None:
            self.success = False
            self.error_type = getattr(exc_type, "__name__", str(exc_type))
        self.finish()
        return False  # never swallow the exception

    def __enter__(self) -> "TrackedInteraction":
        return self.start()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        return self._exit(exc_type)

    async def __aenter__(self) -> "TrackedInteraction":
        return self.start()

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> bool:
        return self._exit(exc_type)

    def __repr__(self) -> str:
        return "TrackedInteraction(id=%r, intent=%r)" % (self.id, self.intent)


class Tracker(object):
    """Creates tracked interactions on one :class:`AIMonitorClient`.

    The client is created lazily on first use, from the arguments given here or to
    :meth:`configure`, else from the environment (``AI_MONITOR_URL``, ``AI_MONITOR_TOKEN``).
    """

    def __init__(self, client: Optional[AIMonitorClient] = None, **client_kwargs: Any) -> None:
        self._client = client
        self._client_kwargs = client_kwargs
        self._lock = threading.Lock()

    def configure(self, client: Optional[AIMonitorClient] = None, **client_kwargs: Any) -> "Tracker":
        """Use this client, or build a new one from these ``AIMonitorClient`` arguments
        (``server_url=``, ``token=``, ...). The previous client keeps delivering what it holds."""
        with self._lock:
            self._client = client
            self._client_kwargs = client_kwargs
        return self

    @property
    def client(self) -> AIMonitorClient:
        client = self._client
        if client is not None:
            return client
        with self._lock:
            if self._client is None:
                try:
                    self._client = AIMonitorClient(**self._client_kwargs)
                except Exception as exc:
                    # e.g. a malformed AI_MONITOR_URL: report it, and never break the assistant.
                    log.error("ai-monitor: tracker disabled: %s", exc)
                    self._client = AIMonitorClient(server_url=DEFAULT_SERVER_URL, enabled=False)
            return self._client

    def track_interaction(self, user_input: Any = "", intent: Any = None,
                          **fields: Any) -> TrackedInteraction:
        """A context manager (``with`` or ``async with``) tracking one interaction."""
        return TrackedInteraction(self.client, user_input, intent, **fields)

    async def connect(self, timeout: float = 3.0) -> bool:
        return await self.client.connect(timeout)

    async def log_interaction(self, *args: Any, **kwargs: Any) -> Optional[str]:
        return self.client.log_interaction_sync(*args, **kwargs)

    def flush(self, timeout: Optional[float] = 5.0) -> bool:
        return self.client.flush(timeout)

    async def aflush(self, timeout: Optional[float] = 5.0) -> bool:
        return await self.client.aflush(timeout)

    def close(self, timeout: Optional[float] = 5.0) -> bool:
        return self.client.close(timeout)

    def stats(self) -> Dict[str, Any]:
        return self.client.stats()


def default_tracker() -> Tracker:
    """A tracker configured from the environment (``AI_MONITOR_URL``, default
    ``ws://localhost:8765``; ``AI_MONITOR_TOKEN``), read when the client is created: on
    first use."""
    return Tracker()

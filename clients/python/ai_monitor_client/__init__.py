"""Python SDK for ai-monitor, the self-hosted real-time monitor for AI assistants.

Standard library only; Python >= 3.8. The seed's API::

    from ai_monitor_client import AIMonitorClient

    monitor = AIMonitorClient(server_url="ws://localhost:8765")
    await monitor.connect()
    await monitor.log_interaction(user_input="...", intent="...",
                                  tools_used=[{"tool": "read", "params": {}}],
                                  response_time=1500, success=True, error_type=None)

and the middleware::

    from ai_realtime_tracker import tracker

    with tracker.track_interaction(user_input) as t:
        t.log_intent("search")
        t.log_tool_use("read", {"path": "x"})
"""

from ._util import DEFAULT_SERVER_URL, http_base_from_server_url, new_id
from .client import OPTIONAL_FIELDS, AIMonitorClient, __version__
from .tracker import ToolTimer, TrackedInteraction, Tracker, default_tracker

__all__ = [
    "AIMonitorClient",
    "Tracker",
    "TrackedInteraction",
    "ToolTimer",
    "default_tracker",
    "new_id",
    "http_base_from_server_url",
    "DEFAULT_SERVER_URL",
    "OPTIONAL_FIELDS",
    "__version__",
]

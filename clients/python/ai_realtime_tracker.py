"""The seed's middleware module: ``from ai_realtime_tracker import tracker``.

``tracker`` is configured from the environment when first used: ``AI_MONITOR_URL`` (default
``ws://localhost:8765``) and ``AI_MONITOR_TOKEN``. Point it elsewhere in code with
``tracker.configure(server_url="ws://monitor:8765", token="...")``.
"""

from ai_monitor_client import AIMonitorClient, ToolTimer, TrackedInteraction, Tracker, default_tracker

#: The process-wide tracker used by the seed's ``tracker.track_interaction(user_input)``.
tracker = default_tracker()

__all__ = ["tracker", "AIMonitorClient", "Tracker", "TrackedInteraction", "ToolTimer"]

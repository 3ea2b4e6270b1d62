"""Small helpers: URL mapping, timestamps, ids and safe JSON encoding.

Standard library only; compatible with Python 3.8.
"""

import datetime
import json
import math
import os
import threading
import time
from typing import Any, Optional
from urllib.parse import urlsplit, urlunsplit

DEFAULT_SERVER_URL = "ws://localhost:8765"

_SCHEME_MAP = {"ws": "http", "wss": "https", "http": "http", "https": "https"}


def http_base_from_server_url(server_url: str) -> str:
    """Map the seed's WebSocket URL to the server's HTTP base URL.

    ``ws://host:port`` becomes ``http://host:port`` and ``wss://`` becomes ``https://``;
    ``http(s)://`` URLs are used as they are and a bare ``host:port`` is taken as ``http``.
    A path (a reverse-proxy prefix) is kept, without its trailing slash; query strings and
    fragments are dropped.
    """
    url = (server_url or "").strip()
    if not url:
        url = DEFAULT_SERVER_URL
    if "://" not in url:
        url = "http://" + url
    parts = urlsplit(url)
    scheme = _SCHEME_MAP.get(parts.scheme.lower())
    if scheme is None:
        raise ValueError(
            "server_url must start with ws://, wss://, http:// or https:// (got %r)" % (server_url,)
        )
    if not parts.netloc:
        raise ValueError("server_url has no host: %r" % (server_url,))
    path = parts.path.rstrip("/")
    return urlunsplit((scheme, parts.netloc, path, "", ""))


def is_loopback_host(http_base: str) -> bool:
    host = (urlsplit(http_base).hostname or "").lower()
    return host in ("localhost", "::1", "ip6-localhost") or host.startswith("127.")


def utc_now_iso() -> str:
    """The current time as ISO-8601 in UTC with its offset (``...+00:00``).

    The seed's client sends ``datetime.now().isoformat()`` (local time, no zone), which the
    server must read in a configured zone; an explicit offset is exact wherever the server runs.
    """
    return datetime.datetime.now(datetime.timezone.utc).isoformat()


def format_timestamp(value: Any) -> Any:
    """Normalise a user-supplied timestamp.

    * aware ``datetime``: converted to UTC, sent with its offset (``+00:00``);
    * naive ``datetime``: sent as it is; the server reads it in its naive-timestamp zone
      (``AI_MONITOR_NAIVE_TIMEZONE``, by default the server's own zone), as the seed's server did;
    * ``date``: midnight of that day (naive);
    * numbers (epoch seconds) and strings: passed through unchanged.
    """
    if isinstance(value, datetime.datetime):
        if value.tzinfo is not None and value.utcoffset() is not None:
            value = value.astimezone(datetime.timezone.utc)
        return value.isoformat()
    if isinstance(value, datetime.date):
        return datetime.datetime(value.year, value.month, value.day).isoformat()
    return value


def default_session_id() -> str:
    """The seed's session id: local start time as ``YYYYmmdd_HHMMSS``."""
    return datetime.datetime.now().strftime("%Y%m%d_%H%M%S")


# --- ULID-style ids ------------------------------------------------------------------------

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class _UlidGenerator(object):
    """Monotonic ULIDs: 48-bit millisecond time + 80 random bits, Crockford base32."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last_ms = -1
        self._last_rand = 0

    def new(self) -> str:
        with self._lock:
            ms = int(time.time() * 1000)
            if ms <= self._last_ms:
                # Same (or earlier, clock went back) millisecond: increment so ids stay sorted.
                ms = self._last_ms
                rand = (self._last_rand + 1) & ((1 << 80) - 1)
            else:
                rand = int.from_bytes(os.urandom(10), "big")
            self._last_ms = ms
            self._last_rand = rand
        value = (ms << 80) | rand
        chars = []
        for _ in range(26):
            chars.append(_CROCKFORD[value & 31])
            value >>= 5
        return "".join(reversed(chars))


_ulid = _UlidGenerator()


def new_id() -> str:
    """A new sortable, unique id (ULID) used as the record's idempotency key."""
    return _ulid.new()


# --- JSON ---------------------------------------------------------------------------------


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (datetime.datetime, datetime.date, datetime.time)):
        return obj.isoformat()
    if isinstance(obj, datetime.timedelta):
        return obj.total_seconds()
    if isinstance(obj, (set, frozenset, tuple)):
        return list(obj)
    if isinstance(obj, bytes):
        try:
            return obj.decode("utf-8")
        except UnicodeDecodeError:
            return obj.hex()
    to_dict = getattr(obj, "_asdict", None) or getattr(obj, "to_dict", None)
    if callable(to_dict):
        try:
            return to_dict()
        except Exception:  # pragma: no cover - user object misbehaving
            pass
    return str(obj)


def _sanitize(obj: Any, depth: int = 0) -> Any:
    """Replace what strict JSON cannot carry (NaN, infinities, odd keys, cycles)."""
    if depth > 64:
        return str(obj)
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return dict((str(k), _sanitize(v, depth + 1)) for k, v in obj.items())
    if isinstance(obj, (list, tuple, set, frozenset)):
        return [_sanitize(v, depth + 1) for v in obj]
    if obj is None or isinstance(obj, (str, int, bool)):
        return obj
    return _sanitize(_json_default(obj), depth + 1)


def dumps_record(record: Any) -> str:
    """Encode a record as compact, strict JSON (ASCII, so len() is the byte size). Never raises
    for odd values: unknown objects become strings, NaN/Infinity become null."""
    try:
        return json.dumps(
            record, separators=(",", ":"), ensure_ascii=True, allow_nan=False, default=_json_default
        )
    except (ValueError, TypeError, RecursionError):
        return json.dumps(
            _sanitize(record), separators=(",", ":"), ensure_ascii=True, allow_nan=False,
            default=str,
        )


def parse_json(body: bytes) -> Optional[Any]:
    try:
        return json.loads(body.decode("utf-8", "replace"))
    except Exception:
        return None


def split_retry_after(value: Optional[str]) -> Optional[float]:
    """Seconds from a ``Retry-After`` header in seconds form (dates are ignored)."""
    if not value:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    if seconds < 0 or not math.isfinite(seconds):
        return None
    return seconds


def env_flag(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return raw.strip().lower() not in ("0", "false", "no", "off")


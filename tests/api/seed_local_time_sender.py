"""Sends interactions the way the seed's users do, in the machine's local time (run it under TZ=...).

Usage: python3 seed_local_time_sender.py WS_URL

* 3 records through the SDK's AIMonitorClient (assistant "shanghai-bot") with the seed's
  ``timestamp=datetime.now()``: naive local time;
* 2 records over the seed WebSocket exactly as the seed's client writes them:
  ``{"type": "metrics", "data": {..., "timestamp": datetime.now().isoformat()}}``;
* 1 record through the SDK with its default timestamp (UTC with an offset).

Prints one JSON line: the ids and the timestamps sent. Standard library only, bounded waits.
"""

import base64
import datetime
import json
import os
import socket
import sys
from urllib.parse import urlsplit

from ai_monitor_client import AIMonitorClient


def ws_connect(url):
    parts = urlsplit(url)
    sock = socket.create_connection((parts.hostname, parts.port), timeout=15)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((
        "GET / HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n" % (parts.hostname, parts.port, key)
    ).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            raise RuntimeError("connection closed during the WebSocket handshake")
        head += chunk
    if b" 101 " not in head.split(b"\r\n", 1)[0]:
        raise RuntimeError("WebSocket upgrade refused: %r" % head[:200])
    return sock


def recv_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise RuntimeError("connection closed")
        data += chunk
    return data


def ws_send_text(sock, text):
    payload = text.encode("utf-8")
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        header = bytes([0x81, 0x80 | n])
    else:
        header = bytes([0x81, 0x80 | 126]) + n.to_bytes(2, "big")
    sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))


def ws_recv_text(sock):
    b0, b1 = recv_exact(sock, 2)
    n = b1 & 0x7F
    if n == 126:
        n = int.from_bytes(recv_exact(sock, 2), "big")
    elif n == 127:
        n = int.from_bytes(recv_exact(sock, 8), "big")
    return recv_exact(sock, n).decode("utf-8")


def main(ws_url):
    sent = []
    ids = []
    monitor = AIMonitorClient(server_url=ws_url, assistant="shanghai-bot")
    for i in range(3):
        stamp = datetime.datetime.now()  # the seed's value: naive local time
        sent.append(stamp.isoformat())
        ids.append(monitor.log_interaction_sync(
            "What is on my calendar? %d" % i, "calendar", [{"tool": "calendar", "params": {}}],
            800 + i, True, None, timestamp=stamp,
        ))

    sock = ws_connect(ws_url)
    try:
        for i in range(2):
            stamp = datetime.datetime.now().isoformat()
            sent.append(stamp)
            ws_send_text(sock, json.dumps({"type": "metrics", "data": {
                "session_id": datetime.datetime.now().strftime("%Y%m%d_%H%M%S"),
                "timestamp": stamp,
                "user_input": "Summarise the report %d" % i,
                "intent": "summarize",
                "tools_used": [{"tool": "read", "params": {}}],
                "response_time_ms": 1500,
                "success": i == 0,
                "error_type": None if i == 0 else "timeout",
            }}))
            reply = json.loads(ws_recv_text(sock))
            if reply.get("type") != "ack":
                raise RuntimeError("seed socket refused the record: %r" % reply)
            ids.extend(reply["ids"])
    finally:
        sock.close()

    utc_id = monitor.log_interaction_sync("Hello", "greet", [], 100, True, None)
    if not monitor.flush(15):
        raise RuntimeError("the SDK did not deliver its records: %r" % monitor.stats())
    monitor.close(0)
    print(json.dumps({"naive_ids": ids, "utc_id": utc_id, "sent": sent,
                      "local_zone": datetime.datetime.now().astimezone().tzname()}))


if __name__ == "__main__":
    main(sys.argv[1])

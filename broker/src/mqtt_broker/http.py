"""One HTTP/1.1 answer, written with h11 (python-hyper's sans-I/O HTTP/1.1).

The metrics port and the WebSocket port's status page answer one request per connection
and close it: what both write is here.
"""

from __future__ import annotations

import h11


def whole_answer(http: h11.Connection, status: int, body: bytes, content_type: str) -> bytes:
    """Return the bytes of a whole response to the request ``http`` read; then close."""
    headers = [
        ("Content-Type", content_type),
        ("Content-Length", str(len(body))),
        ("Connection", "close"),
        ("Cache-Control", "no-store"),
    ]
    out = http.send(h11.Response(status_code=status, headers=headers)) or b""
    out += http.send(h11.Data(data=body)) or b""
    out += http.send(h11.EndOfMessage()) or b""
    return out

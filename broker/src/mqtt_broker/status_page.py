"""The status page: ``GET /`` on the WebSockets port (``--websockets-port``).

One HTML file (``static/status.html``: plain HTML and JavaScript, no build step, no
CDN) that connects back to the broker over WebSockets as an MQTT client, shows the
``$SYS`` figures as they are published, and lets a user subscribe to a filter and watch
the messages arrive. It logs in as any client does: anonymously where the broker allows
it, else with the user name and password typed into its form.

A request that is not a WebSocket upgrade is answered here (the page at ``/``, 404
elsewhere); an upgrade goes on to wsproto.
"""

from __future__ import annotations

import functools
from importlib import resources

import h11

from .http import whole_answer

#: Where the page is served.
PAGE_PATH = "/"


@functools.cache
def page() -> bytes:
    """Return the page's HTML (read from the package once)."""
    return resources.files("mqtt_broker").joinpath("static/status.html").read_bytes()


def answer_plain_request(head: bytes) -> bytes | None:
    """Answer an HTTP request head that is not a WebSocket upgrade; None for an upgrade.

    ``head`` holds the request line and headers, whole. A request h11 cannot read is
    left to wsproto too (it answers 400).
    """
    http = h11.Connection(h11.SERVER)
    try:
        http.receive_data(head)
        request = http.next_event()
    except h11.RemoteProtocolError:
        return None
    if not isinstance(request, h11.Request):
        return None
    if any(name == b"upgrade" for name, _ in request.headers):
        return None
    path = request.target.split(b"?", 1)[0]
    if request.method == b"GET" and path == PAGE_PATH.encode():
        return whole_answer(http, 200, page(), "text/html; charset=utf-8")
    return whole_answer(http, 404, b"GET / is the status page; MQTT is at /mqtt\n", "text/plain")

"""The status page (``GET /`` on the WebSockets port), opened in headless Chromium: it
connects back over WebSockets, shows the ``$SYS`` figures as they move, and shows the
messages of the filter it subscribed to as a paho client publishes them."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request

import pytest

from .browser import chromium
from .support import TIMEOUT, V5, Client, broker_process, clients, wait_for
from .test_listeners import ports


def test_the_status_page_shows_figures_and_messages_live() -> None:
    with broker_process("--websockets-port", "0", "--sys-interval", "1") as broker:
        port = ports(broker)["WebSockets"]
        with chromium(f"http://127.0.0.1:{port}/?subscribe=demo/%23") as page:
            wait_for(lambda: page.text_of("state") == "connected")
            wait_for(lambda: page.text_of("watching") == "watching demo/#")
            # The page is a client itself: with paho's, two are connected.
            publisher = Client(broker.port, "page-pub", V5)
            with clients(publisher):
                wait_for(lambda: page.text_of("connected") == "2")
                publisher.publish("demo/a", b"hello from paho", qos=1)
                publisher.publish("elsewhere", b"not watched", qos=1)
                wait_for(lambda: "demo/a: hello from paho" in page.text_of("messages"))
                assert "not watched" not in page.text_of("messages")
                rows = page.evaluate("document.querySelectorAll('#sys tr').length")
                assert rows >= 20  # every $SYS figure has its row
                assert page.text_of("uptime").endswith("seconds")
            wait_for(lambda: page.text_of("connected") == "1")
        assert "Traceback" not in broker.output()


def test_the_page_is_served_at_the_root_and_nothing_else() -> None:
    with broker_process("--websockets-port", "0") as broker:
        port = ports(broker)["WebSockets"]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=TIMEOUT) as answer:
            assert answer.status == 200
            assert answer.headers["Content-Type"] == "text/html; charset=utf-8"
            page = answer.read().decode()
        assert "<title>MQTT broker status</title>" in page
        assert "http" not in page.split("<script>", 1)[1].replace("https:", "")  # no CDN
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/elsewhere", timeout=TIMEOUT)
        assert refused.value.code == 404
        # A request head that never ends is cut off, and the broker goes on.
        with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nX: " + b"a" * 20000)
            assert sock.recv(100) == b""
        client = Client(port, "after-page", V5, transport="websockets")
        with clients(client):
            assert client.subscribe("a", qos=0) == [0]

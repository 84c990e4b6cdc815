"""MQTT over WebSockets: python-hyper's sans-I/O ``wsproto`` in front of a connection.

A ``WebSocketProtocol`` answers the HTTP upgrade (path ``/mqtt``, subprotocol ``mqtt``,
as MQTT 5.0 section 6 and every browser client expect), then hands the binary frames'
bytes to an ordinary ``ClientConnection`` through a ``WebSocketTransport``, which frames
what the connection writes. A plain HTTP request gets the status page
(``status_page``). Nothing of MQTT is written here: the engine reads the
bytes as it reads them from TCP (a packet may span frames, a frame hold several packets).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    RejectConnection,
    Request,
    TextMessage,
)
from wsproto.utilities import LocalProtocolError, RemoteProtocolError

from .status_page import answer_plain_request

log = logging.getLogger("broker")

#: The path clients connect to (paho's, mosquitto's and the browsers' libraries' default).
PATH = "/mqtt"
#: The WebSocket subprotocol MQTT registers.
SUBPROTOCOL = "mqtt"
#: The longest request head read before the upgrade (browsers send about 1 KiB).
MAX_HEAD = 16 * 1024


class WebSocketTransport(asyncio.Transport):
    """What the MQTT connection writes to: each write one binary WebSocket message."""

    def __init__(self, outer: WebSocketProtocol) -> None:
        super().__init__()
        self._outer = outer

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Send ``data`` as one binary message."""
        self._outer.send_binary(bytes(data))

    def get_write_buffer_size(self) -> int:
        """Return how many bytes wait to be written to the socket."""
        return self._outer.raw.get_write_buffer_size()

    def is_closing(self) -> bool:
        """Return whether the WebSocket is closing or closed."""
        return self._outer.closing or self._outer.raw.is_closing()

    def can_write_eof(self) -> bool:
        """Return False: a WebSocket ends with a Close frame, not a half-close."""
        return False

    def close(self) -> None:
        """Send a Close frame (normal closure), then close the socket."""
        self._outer.close_websocket()

    def abort(self) -> None:
        """Drop the socket at once."""
        self._outer.raw.abort()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """Return the socket's extra information (``peername``, ``ssl_object``, ...)."""
        return self._outer.raw.get_extra_info(name, default)

    def pause_reading(self) -> None:
        """Stop reading the socket until ``resume_reading``."""
        self._outer.raw.pause_reading()

    def resume_reading(self) -> None:
        """Read the socket again."""
        self._outer.raw.resume_reading()

    def is_reading(self) -> bool:
        """Return whether the socket is read."""
        return self._outer.raw.is_reading()


class WebSocketProtocol(asyncio.Protocol):
    """One WebSocket connection: the upgrade, then MQTT in binary messages."""

    def __init__(self, make_inner: Callable[[], asyncio.Protocol]) -> None:
        self._make_inner = make_inner
        self._ws = WSConnection(ConnectionType.SERVER)
        self._inner: asyncio.Protocol | None = None
        self.raw: asyncio.Transport = None  # type: ignore[assignment]  # set at once
        self.closing = False
        self.peer = "?"
        #: The first request's bytes until its head is whole; None once it is.
        self._head: bytes | None = b""

    # ---- asyncio.Protocol ----

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        """Wait for the client's upgrade request."""
        assert isinstance(transport, asyncio.Transport)
        self.raw = transport
        host, port, *_ = transport.get_extra_info("peername") or ("?", 0)
        self.peer = f"{host}:{port}"

    def data_received(self, data: bytes) -> None:
        """Read the upgrade, then frames: their bytes go to the MQTT connection."""
        if self._head is not None:
            data = self._request_head(data)
            if not data:
                return
        try:
            self._ws.receive_data(data)
            for event in self._ws.events():
                if isinstance(event, BytesMessage):
                    if self._inner is not None:
                        self._inner.data_received(bytes(event.data))
                elif isinstance(event, Request):
                    self._upgrade(event)
                elif isinstance(event, Ping):
                    self._send(event.response())
                elif isinstance(event, CloseConnection):
                    self._closed_by_client(event)
                elif isinstance(event, TextMessage):
                    # MQTT is binary; a text frame is a client error (RFC 6455 1003).
                    self._close(1003, "MQTT goes in binary frames")
        except RemoteProtocolError as err:
            log.info("a WebSocket client at %s broke the protocol: %s", self.peer, err)
            self._reject(400)

    def eof_received(self) -> bool:
        """Close on EOF."""
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        """Tell the MQTT connection its socket is gone."""
        if self._inner is not None:
            self._inner.connection_lost(exc)

    # ---- what the MQTT connection asks ----

    def send_binary(self, data: bytes) -> None:
        """Send one binary message (nothing once the WebSocket is closing)."""
        if not self.closing:
            self._send(BytesMessage(data=data))

    def close_websocket(self) -> None:
        """Close normally: a Close frame, then the socket once it is written."""
        self._close(1000, "")

    # ---- the handshake and the end ----

    def _request_head(self, data: bytes) -> bytes:
        """Gather the first request's head; answer a plain HTTP request (the status page).

        Return what goes on to wsproto: nothing while the head is incomplete or once it
        was answered here, the bytes read so far for an upgrade.
        """
        assert self._head is not None
        head = self._head + data
        if b"\r\n\r\n" not in head:
            if len(head) > MAX_HEAD:
                log.info("a client at %s sent a request head over %d bytes", self.peer, MAX_HEAD)
                self._head = None
                self.closing = True
                self.raw.close()
                return b""
            self._head = head
            return b""
        self._head = None
        answer = answer_plain_request(head)
        if answer is None:
            return head
        self.closing = True
        self.raw.write(answer)
        self.raw.close()
        return b""

    def _upgrade(self, request: Request) -> None:
        path = request.target.split("?", 1)[0]
        if path != PATH:
            log.info(
                "a WebSocket client at %s asked for %s: only %s is served", self.peer, path, PATH
            )
            self._reject(404)
            return
        if SUBPROTOCOL not in request.subprotocols:
            log.info(
                "a WebSocket client at %s offered no 'mqtt' subprotocol (%s)",
                self.peer,
                ", ".join(request.subprotocols) or "none",
            )
            self._reject(400)
            return
        self._send(AcceptConnection(subprotocol=SUBPROTOCOL))
        self._inner = self._make_inner()
        self._inner.connection_made(WebSocketTransport(self))

    def _reject(self, status: int) -> None:
        """Refuse the upgrade with an HTTP status (or just close, if past it)."""
        with contextlib.suppress(LocalProtocolError):  # past the upgrade: just close
            self._send(RejectConnection(status_code=status))
        self.closing = True
        self.raw.close()

    def _closed_by_client(self, event: CloseConnection) -> None:
        if not self.closing:
            self.closing = True
            with contextlib.suppress(LocalProtocolError):
                self._send(event.response())
        self.raw.close()

    def _close(self, code: int, reason: str) -> None:
        if self.closing:
            return
        self.closing = True
        # Not yet upgraded, or closed by the client already: just close.
        with contextlib.suppress(LocalProtocolError):
            self._send(CloseConnection(code=code, reason=reason or None))
        self.raw.close()

    def _send(self, event: AcceptConnection | BytesMessage | CloseConnection | Any) -> None:
        if not self.raw.is_closing():
            self.raw.write(self._ws.send(event))

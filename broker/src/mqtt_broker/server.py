"""Listeners, started and stopped; a broker may have several at once.

Plain TCP, TLS (with optional client certificates) and WebSockets (plain or over TLS).
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass

from . import sockets
from .broker import Broker
from .connection import ClientConnection
from .sockets import SocketServer
from .websockets import WebSocketProtocol


@dataclass
class TlsOptions:
    """A TLS listener's files: certificate, key, and the CAs that sign client certificates."""

    certificate: str
    key: str
    ca: str | None = None
    require_certificate: bool = False

    def context(self) -> ssl.SSLContext:
        """Return the server's SSL context."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.certificate, self.key)
        if self.ca is not None:
            context.load_verify_locations(self.ca)
            context.verify_mode = (
                ssl.CERT_REQUIRED if self.require_certificate else ssl.CERT_OPTIONAL
            )
        return context


class Listener:
    """A running listener: where it listens, and how to stop it."""

    def __init__(
        self,
        server: asyncio.Server | SocketServer,
        broker: Broker,
        trim_every: float,
        kind: str = "",
    ) -> None:
        self.server = server
        self.broker = broker
        self.housekeeping: asyncio.Task[None] | None = None
        if trim_every > 0:
            housekeeping = broker.give_back_memory(trim_every)
            self.housekeeping = asyncio.get_running_loop().create_task(housekeeping)
        host, port = server.sockets[0].getsockname()[:2]
        self.host: str = host
        self.port: int = port
        #: What it serves besides plain MQTT over TCP: "TLS", "WebSockets", ...
        self.kind = kind

    def stop_accepting(self) -> None:
        """Stop accepting connections (the broker and its clients go on)."""
        self.server.close()
        if self.housekeeping is not None:
            self.housekeeping.cancel()

    async def close(self) -> None:
        """Stop accepting, disconnect every client (0x8B), save state, close storage."""
        self.stop_accepting()
        await self.broker.shutdown()
        await self.server.wait_closed()

    def __str__(self) -> str:
        """Say where it listens, as the broker's start-up line does."""
        return f"{self.host}:{self.port}" + (f" ({self.kind})" if self.kind else "")


async def listen(
    broker: Broker,
    host: str,
    port: int,
    tls: TlsOptions | None = None,
    *,
    trim_every: float = 10.0,
    reuse_port: bool = False,
    websockets: bool = False,
) -> Listener:
    """Start serving ``broker`` on ``host:port`` (0: any free port).

    Plain TCP is served by a ``SocketServer`` (its own epoll: a batch of reads per loop
    turn, one write per connection at its end, and a few hundred bytes per connection);
    TLS, WebSockets and systems without epoll, by asyncio's transports. ``reuse_port``:
    listen beside other processes on the same port (``SO_REUSEPORT``). ``websockets``:
    MQTT over WebSockets (path ``/mqtt``, subprotocol ``mqtt``), over TLS with ``tls``.
    ``trim_every``: how often freed memory goes back to the OS (0: never; one listener
    of a broker does it for all).
    """
    loop = asyncio.get_running_loop()
    server: asyncio.Server | SocketServer
    ssl_context = tls.context() if tls is not None else None
    if websockets:
        server = await loop.create_server(
            lambda: WebSocketProtocol(lambda: ClientConnection(broker)),
            host,
            port,
            ssl=ssl_context,
            reuse_address=True,
            reuse_port=reuse_port or None,
        )
        kind = "WebSockets, TLS" if tls is not None else "WebSockets"
        return Listener(server, broker, trim_every, kind)
    if tls is None and sockets.available():
        server = SocketServer.bind(
            loop,
            host,
            port,
            lambda: ClientConnection(broker),
            batch=(broker.begin_batch, broker.end_batch),
            reuse_port=reuse_port,
        )
    else:
        server = await loop.create_server(
            lambda: ClientConnection(broker),
            host,
            port,
            ssl=ssl_context,
            reuse_address=True,
            reuse_port=reuse_port or None,
        )
    return Listener(server, broker, trim_every, "TLS" if tls is not None else "")

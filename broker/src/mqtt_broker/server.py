"""Listeners: plain TCP and TLS (with optional client certificates), started and stopped."""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass

from .broker import Broker
from .connection import ClientConnection


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

    def __init__(self, server: asyncio.Server, broker: Broker, trim_every: float) -> None:
        self.server = server
        self.broker = broker
        housekeeping = broker.give_back_memory(trim_every)
        self.housekeeping = asyncio.get_running_loop().create_task(housekeeping)
        host, port = server.sockets[0].getsockname()[:2]
        self.host: str = host
        self.port: int = port

    async def close(self) -> None:
        """Stop accepting, disconnect every client (0x8B), save state, close storage."""
        self.server.close()
        self.housekeeping.cancel()
        await self.broker.shutdown()
        await self.server.wait_closed()


async def listen(
    broker: Broker,
    host: str,
    port: int,
    tls: TlsOptions | None = None,
    *,
    trim_every: float = 10.0,
) -> Listener:
    """Start serving ``broker`` on ``host:port`` (0: any free port)."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: ClientConnection(broker),
        host,
        port,
        ssl=tls.context() if tls is not None else None,
        reuse_address=True,
    )
    return Listener(server, broker, trim_every)

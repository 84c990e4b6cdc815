"""Plain TCP on an epoll of its own, nested in the event loop (Linux).

A listening socket and its connections are watched by one ``select.epoll``, whose own
descriptor is the only one the event loop watches. When it is ready, every socket
ready is served in one batch (accepted, read, written), and then ``on_batch_end`` runs:
the broker writes what the batch gave each connection there, once, in the same loop
turn. asyncio's own transports would take a loop turn per socket and another for the
write, and about 1.7 KiB per connection; a ``SocketTransport`` costs a few hundred
bytes.

Each connection gets a small ``asyncio.Transport`` and its protocol is called as asyncio
calls it (``connection_made``, ``data_received``, ``eof_received``, and
``connection_lost`` in a later loop turn, once). A protocol whose ``data_received``
raises has its connection aborted, the error reported to the loop's exception handler,
as asyncio does. TLS listeners, and systems without epoll, keep asyncio's transports.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import select
import socket
from collections.abc import Callable
from typing import Any

log = logging.getLogger("broker")

#: How much one read takes from the socket.
READ_SIZE = 256 * 1024
#: Connections accepted per batch (then the loop turns).
ACCEPTS_PER_BATCH = 64
#: Sockets served per batch, at most (the rest in the next loop turn).
EVENTS_PER_BATCH = 1024

_READ = select.EPOLLIN if hasattr(select, "EPOLLIN") else 0
_WRITE = select.EPOLLOUT if hasattr(select, "EPOLLOUT") else 0
_TROUBLE = (select.EPOLLHUP | select.EPOLLERR) if hasattr(select, "EPOLLHUP") else 0


def available() -> bool:
    """Return whether this system has epoll (else asyncio's transports serve)."""
    return hasattr(select, "epoll")


class SocketTransport(asyncio.Transport):
    """One TCP connection's socket, served by its ``SocketServer``'s epoll.

    Its write buffer has no limits and calls no ``pause_writing``: the connection looks
    at ``get_write_buffer_size`` itself (the write-buffer limit methods raise
    ``NotImplementedError``, as in ``asyncio.Transport``).
    """

    __slots__ = ("_buffer", "_closing", "_eof", "_protocol", "_reading", "_server", "_sock")

    def __init__(
        self, server: SocketServer, sock: socket.socket, protocol: asyncio.Protocol
    ) -> None:
        # asyncio.BaseTransport.__init__ is not called: it only makes the "extra" dict,
        # which get_extra_info below does without (a dict per connection saved).
        self._server = server
        self._sock: socket.socket | None = sock
        self._protocol = protocol
        self._reading = True
        #: What the socket did not take yet (None: nothing waits).
        self._buffer: bytearray | None = None
        self._closing = False
        self._eof = False
        server.watch(sock.fileno(), self, _READ)
        protocol.connection_made(self)

    # ---- the asyncio.Transport methods a connection uses ----

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        """Return "peername", "sockname" or "socket"; ``default`` for anything else."""
        if self._sock is None:
            return default
        try:
            if name == "peername":
                return self._sock.getpeername()
            if name == "sockname":
                return self._sock.getsockname()
        except OSError:  # a peer that is gone already
            return default
        if name == "socket":
            return self._sock
        return default

    def get_protocol(self) -> Any:
        """Return the protocol this transport feeds."""
        return self._protocol

    def set_protocol(self, protocol: Any) -> None:
        """Feed another protocol from now on."""
        self._protocol = protocol

    def is_reading(self) -> bool:
        """Return whether the socket is read when it has data."""
        return self._reading and self._sock is not None and not self._closing

    def pause_reading(self) -> None:
        """Stop reading until ``resume_reading``."""
        if self.is_reading():
            self._reading = False
            self._watch()

    def resume_reading(self) -> None:
        """Read again after ``pause_reading``."""
        if not self._reading and self._sock is not None and not self._closing:
            self._reading = True
            self._watch()

    def is_closing(self) -> bool:
        """Return whether the transport is closing or closed."""
        return self._closing

    def get_write_buffer_size(self) -> int:
        """Return how many bytes wait to be written."""
        return len(self._buffer) if self._buffer is not None else 0

    def can_write_eof(self) -> bool:
        """Return True: TCP can shut down its sending side."""
        return True

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Send what the socket takes now; keep the rest for when it is writable."""
        if self._eof:
            raise RuntimeError("write() after write_eof()")
        sock = self._sock
        if sock is None or not data:
            return
        if self._buffer is not None:
            self._buffer += data
            return
        try:
            sent = sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError as err:
            self._lost(err)
            return
        if sent < len(data):
            self._buffer = bytearray(memoryview(data)[sent:])
            self._watch()

    def write_eof(self) -> None:
        """Shut down the sending side once what waits is written."""
        if self._eof:
            return
        self._eof = True
        if self._buffer is None:
            self._shutdown_sending()

    def close(self) -> None:
        """Close once what waits is written (reading stops now)."""
        if self._closing:
            return
        self._closing = True
        if self._buffer is None:
            self._lost(None)
        else:
            self._watch()

    def abort(self) -> None:
        """Close at once, dropping what waits."""
        self._closing = True
        self._lost(None)

    # ---- the server's side ----

    def _watch(self) -> None:
        """Tell the epoll what this socket waits for now."""
        if self._sock is None:
            return
        events = _READ if self._reading and not self._closing else 0
        if self._buffer is not None:
            events |= _WRITE
        self._server.rewatch(self._sock.fileno(), events)

    def is_open(self) -> bool:
        """Return whether the socket is still open."""
        return self._sock is not None

    def ready(self, events: int) -> None:
        """Serve what the epoll reported: write, read, or the end of the connection."""
        if events & _WRITE:
            self._writable()
        if events & _READ:
            if self.is_reading():
                self._readable()
        elif events & _TROUBLE and self._sock is not None:
            # Hung up or failed, with nothing asked for: reading finds the error or the
            # end; with reading done and nothing to write, the connection is over (a
            # hang-up is reported until the socket is closed).
            if self.is_reading():
                self._readable()
            elif self._buffer is not None:
                self._writable()
            else:
                self._lost(None)

    def _readable(self) -> None:
        sock = self._sock
        if sock is None:
            return
        try:
            data = sock.recv(READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as err:
            self._lost(err)
            return
        if data:
            self._protocol.data_received(data)
            return
        self._reading = False
        self._watch()
        if not self._protocol.eof_received():
            self.close()

    def _writable(self) -> None:
        sock, buffer = self._sock, self._buffer
        if sock is None or buffer is None:
            return
        try:
            sent = sock.send(buffer)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as err:
            self._lost(err)
            return
        del buffer[:sent]
        if buffer:
            return
        self._buffer = None
        if self._closing:
            self._lost(None)
            return
        self._watch()
        if self._eof:
            self._shutdown_sending()

    def _shutdown_sending(self) -> None:
        if self._sock is None:
            return
        try:
            self._sock.shutdown(socket.SHUT_WR)
        except OSError as err:
            self._lost(err)

    def _lost(self, exc: Exception | None) -> None:
        """Release the socket and tell the protocol, once."""
        sock, self._sock = self._sock, None
        if sock is None:
            return
        self._closing = True
        self._buffer = None
        self._server.unwatch(sock.fileno())
        sock.close()
        # As asyncio does: the protocol learns of it in a later turn, not in the middle
        # of whatever called close().
        self._server.loop.call_soon(self._protocol.connection_lost, exc)


class SocketServer:
    """A listening TCP socket whose connections get a ``SocketTransport`` each."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        sock: socket.socket,
        protocol_factory: Callable[[], asyncio.Protocol],
        batch: tuple[Callable[[], None], Callable[[], None]] | None = None,
    ) -> None:
        self.loop = loop
        self._sock = sock
        self._factory = protocol_factory
        self._batch = batch
        self._epoll = select.epoll()
        self._transports: dict[int, SocketTransport] = {}
        self.sockets = [sock]
        self._epoll.register(sock.fileno(), _READ)
        loop.add_reader(self._epoll.fileno(), self._serve)

    @classmethod
    def bind(
        cls,
        loop: asyncio.AbstractEventLoop,
        host: str,
        port: int,
        protocol_factory: Callable[[], asyncio.Protocol],
        batch: tuple[Callable[[], None], Callable[[], None]] | None = None,
        *,
        reuse_port: bool = False,
    ) -> SocketServer:
        """Listen on ``host:port`` (0: any free port); OSError if that cannot be.

        ``batch``: two calls, made before and after each batch of ready sockets is
        served (the broker writes its output once, at the end). ``reuse_port``: beside
        other processes listening there (``SO_REUSEPORT``: the kernel spreads the
        connections among them).
        """
        family, kind, proto, _, address = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )[0]
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if reuse_port:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(address)
            sock.listen(socket.SOMAXCONN)
            sock.setblocking(False)
        except BaseException:
            sock.close()
            raise
        return cls(loop, sock, protocol_factory, batch)

    # ---- what transports ask ----

    def watch(self, fd: int, transport: SocketTransport, events: int) -> None:
        """Serve ``fd`` with ``transport`` for ``events`` from now on."""
        self._transports[fd] = transport
        self._epoll.register(fd, events)

    def rewatch(self, fd: int, events: int) -> None:
        """Wait for other events on ``fd``."""
        self._epoll.modify(fd, events)

    def unwatch(self, fd: int) -> None:
        """Forget ``fd`` (before it is closed)."""
        if self._transports.pop(fd, None) is not None:
            self._epoll.unregister(fd)

    # ---- the loop's side ----

    def _serve(self) -> None:
        """Serve every ready socket, then end the batch."""
        try:
            ready = self._epoll.poll(0, EVENTS_PER_BATCH)
        except InterruptedError:
            return
        if not ready:
            return
        listening = self._sock.fileno()
        if self._batch is not None:
            self._batch[0]()
        # Looked up first: a socket closed during the batch is skipped, and one opened
        # on the same descriptor number is not served events that were not its own.
        served = [(self._transports.get(fd), fd, events) for fd, events in ready]
        for transport, fd, events in served:
            if fd == listening:
                self._accept()
            elif transport is not None and transport.is_open():
                try:
                    transport.ready(events)
                except Exception as exc:
                    self.loop.call_exception_handler(
                        {
                            "message": "Fatal error: protocol.data_received() call failed.",
                            "exception": exc,
                            "transport": transport,
                            "protocol": transport.get_protocol(),
                        }
                    )
                    transport.abort()
        if self._batch is not None:
            self._batch[1]()

    def _accept(self) -> None:
        for _ in range(ACCEPTS_PER_BATCH):
            try:
                conn, _ = self._sock.accept()
            except (BlockingIOError, InterruptedError, ConnectionAbortedError):
                return
            except OSError as err:
                if err.errno in (errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM):
                    log.warning("cannot accept a connection: %s", err.strerror)
                    return
                raise
            conn.setblocking(False)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            SocketTransport(self, conn, self._factory())

    def close(self) -> None:
        """Stop accepting (the connections stay until they are closed)."""
        if self._sock.fileno() >= 0:
            self._epoll.unregister(self._sock.fileno())
            self._sock.close()

    async def wait_closed(self, timeout: float = 5.0) -> None:
        """Wait until every connection has closed, then close the epoll.

        Connections still open after ``timeout`` seconds are aborted.
        """
        deadline = self.loop.time() + timeout
        while self._transports and self.loop.time() < deadline:
            await asyncio.sleep(0.01)
        for transport in list(self._transports.values()):
            transport.abort()
        if not self._epoll.closed:
            self.loop.remove_reader(self._epoll.fileno())
            self._epoll.close()

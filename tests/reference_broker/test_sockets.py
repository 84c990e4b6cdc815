"""The broker's plain-TCP transport: what the socket does not take waits, in order; EOF,
close and abort end the connection as asyncio's transports do, and tell the protocol
once."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable

from mqtt_broker.sockets import SocketServer, SocketTransport

BIG = 8 * 1024 * 1024  # far more than a socket's send buffer takes at once


class Recorder(asyncio.Protocol):
    """A protocol that keeps what happens to it, and lets the test act on its transport."""

    def __init__(self) -> None:
        self.transport: SocketTransport | None = None
        self.received = bytearray()
        self.eof = 0
        self.lost: list[Exception | None] = []
        self.made = asyncio.Event()
        self.ended = asyncio.Event()
        #: What happened, in order, around batches: "begin", "data", "end".
        self.log: list[str] = []

    def begin(self) -> None:
        self.log.append("begin")

    def end(self) -> None:
        self.log.append("end")

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, SocketTransport)
        self.transport = transport
        self.made.set()

    def data_received(self, data: bytes) -> None:
        self.received += data
        self.log.append("data")

    def eof_received(self) -> bool:
        self.eof += 1
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost.append(exc)
        self.ended.set()


class Failing(Recorder):
    """A protocol whose data_received raises."""

    def data_received(self, data: bytes) -> None:
        raise ValueError("a bug in the protocol")


Scenario = Callable[[Recorder, asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


def serve(scenario: Scenario, recorder: Recorder | None = None) -> Recorder:
    """Accept one connection from a stream client and run ``scenario`` on both ends."""

    async def main() -> Recorder:
        nonlocal recorder
        loop = asyncio.get_running_loop()
        recorder = recorder or Recorder()
        server = SocketServer.bind(
            loop, "127.0.0.1", 0, lambda: recorder, batch=(recorder.begin, recorder.end)
        )
        try:
            port = server.sockets[0].getsockname()[1]
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            await asyncio.wait_for(recorder.made.wait(), 5)
            await asyncio.wait_for(scenario(recorder, reader, writer), 30)
            writer.close()
            await asyncio.wait_for(recorder.ended.wait(), 5)
        finally:
            server.close()
            await server.wait_closed()
        return recorder

    return asyncio.run(main())


def test_what_the_socket_does_not_take_waits_and_arrives_in_order() -> None:
    payload = bytes(range(256)) * (BIG // 256)

    async def scenario(r: Recorder, reader: asyncio.StreamReader, _: asyncio.StreamWriter) -> None:
        assert r.transport is not None
        r.transport.write(payload[: BIG // 2])
        r.transport.write(payload[BIG // 2 :])
        assert r.transport.get_write_buffer_size() > 0  # the rest waits
        got = await reader.readexactly(BIG)
        assert got == payload
        await asyncio.sleep(0.05)
        assert r.transport.get_write_buffer_size() == 0
        r.transport.close()

    recorder = serve(scenario)
    assert recorder.lost == [None]


def test_write_eof_and_close_send_what_waits_first() -> None:
    async def scenario(r: Recorder, reader: asyncio.StreamReader, _: asyncio.StreamWriter) -> None:
        assert r.transport is not None
        r.transport.write(b"x" * BIG)
        r.transport.write_eof()
        try:
            r.transport.write(b"after the end")
        except RuntimeError:
            pass  # as asyncio's transports: the sending side is shut
        else:
            raise AssertionError("wrote after write_eof")
        assert await reader.read() == b"x" * BIG  # everything, then EOF
        assert not r.transport.is_closing()  # the other direction stays open
        r.transport.close()

    recorder = serve(scenario)
    assert recorder.lost == [None]

    async def closing(r: Recorder, reader: asyncio.StreamReader, _: asyncio.StreamWriter) -> None:
        assert r.transport is not None
        r.transport.write(b"y" * BIG)
        r.transport.close()
        assert r.transport.is_closing()
        assert await reader.read() == b"y" * BIG

    recorder = serve(closing)
    assert recorder.lost == [None]


def test_the_peers_bytes_and_eof_reach_the_protocol_then_the_end_once() -> None:
    async def scenario(r: Recorder, _: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert r.transport is not None
        assert r.transport.get_extra_info("peername") == writer.get_extra_info("sockname")
        assert r.transport.get_extra_info("sockname") == writer.get_extra_info("peername")
        assert r.transport.get_extra_info("nothing such", 7) == 7
        writer.write(b"hello ")
        writer.write(b"broker")
        writer.write_eof()
        await asyncio.wait_for(r.ended.wait(), 5)
        r.transport.close()  # already closed: nothing happens
        r.transport.abort()

    recorder = serve(scenario)
    assert bytes(recorder.received) == b"hello broker"
    assert recorder.eof == 1
    assert recorder.lost == [None]
    # Every read happened inside a batch, and each batch ended.
    depth = 0
    for entry in recorder.log:
        depth += {"begin": 1, "end": -1, "data": 0}[entry]
        assert depth in (0, 1), recorder.log
        assert entry != "data" or depth == 1, recorder.log
    assert depth == 0


def test_a_protocol_that_raises_loses_its_connection_and_the_loop_hears_of_it() -> None:
    reported: list[dict[str, object]] = []

    async def scenario(
        r: Recorder, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        asyncio.get_running_loop().set_exception_handler(
            lambda _, context: reported.append(context)
        )
        writer.write(b"boom")
        await asyncio.wait_for(r.ended.wait(), 5)
        assert await reader.read() == b""

    recorder = serve(scenario, Failing())
    assert recorder.lost == [None]
    assert len(reported) == 1
    assert isinstance(reported[0]["exception"], ValueError)


def test_a_connection_shut_both_ways_is_closed_not_spun_on() -> None:
    async def scenario(
        r: Recorder, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        assert r.transport is not None
        r.transport.write_eof()  # our side is shut
        assert await reader.read() == b""
        writer.write_eof()  # and now theirs: the socket hangs up
        await asyncio.wait_for(r.ended.wait(), 5)

    class StaysOpen(Recorder):
        def eof_received(self) -> bool:
            super().eof_received()
            return True  # keep the transport open after EOF, as a lingering broker does

    recorder = serve(scenario, StaysOpen())
    assert recorder.eof == 1
    assert recorder.lost == [None]


def test_paused_reading_reads_nothing_until_resumed() -> None:
    async def scenario(r: Recorder, _: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        assert r.transport is not None
        r.transport.pause_reading()
        assert not r.transport.is_reading()
        writer.write(b"waits")
        await writer.drain()
        await asyncio.sleep(0.1)
        assert r.received == b""
        r.transport.resume_reading()
        assert r.transport.is_reading()
        for _attempt in range(100):
            if r.received:
                break
            await asyncio.sleep(0.01)
        assert bytes(r.received) == b"waits"
        r.transport.close()

    serve(scenario)


def test_abort_drops_what_waits_and_resets_the_peer() -> None:
    async def scenario(r: Recorder, reader: asyncio.StreamReader, _: asyncio.StreamWriter) -> None:
        assert r.transport is not None
        r.transport.write(b"z" * BIG)
        r.transport.abort()
        assert r.transport.get_write_buffer_size() == 0
        received = 0
        try:
            while chunk := await reader.read(65536):
                received += len(chunk)
        except ConnectionResetError:
            pass
        assert received < BIG

    recorder = serve(scenario)
    assert recorder.lost == [None]


def test_a_listening_port_in_use_is_an_os_error() -> None:
    async def main() -> None:
        loop = asyncio.get_running_loop()
        taken = socket.socket()
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        try:
            port = taken.getsockname()[1]
            try:
                SocketServer.bind(loop, "127.0.0.1", port, asyncio.Protocol)
            except OSError:
                return
            raise AssertionError("bound a port in use")
        finally:
            taken.close()

    asyncio.run(main())

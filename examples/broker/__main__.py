"""The reference broker: ``python examples/broker/ --host H --port P [options]``.

An asyncio MQTT broker for 3.1, 3.1.1 and 5.0 written only against mqtt_common's public
API. It prints a line with ``listening on H:P`` once it accepts connections, and stops
cleanly on SIGINT or SIGTERM. See ``--help``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as `python examples/broker/`: import as a package
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    __package__ = "broker"

from broker.broker import Broker, BrokerConfig
from broker.server import TlsOptions, listen
from mqtt_common.models import AuthenticationError, AuthorizationError, StorageError
from mqtt_common.protocol import ServerConfig
from mqtt_common.src.auth import AsyncAuthInterface, FileAuth
from mqtt_common.src.session import (
    AsyncSessionInterface,
    MemorySessionStore,
    SessionInterface,
    SqliteSessionStore,
)
from mqtt_common.src.storage import (
    AsyncStorageInterface,
    MemoryStorage,
    SqliteStorage,
    StorageInterface,
)

log = logging.getLogger("broker")


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        prog="python examples/broker/",
        description="The reference MQTT broker of mqtt-common (asyncio, public API only).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=1883, help="port (0: any free one)")
    parser.add_argument(
        "--allow-anonymous",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="accept clients without a user name (default: yes)",
    )
    parser.add_argument(
        "--max-keep-alive",
        type=int,
        default=None,
        metavar="S",
        help="cap the clients' keep alive, announced as Server Keep Alive",
    )
    parser.add_argument(
        "--max-unread",
        type=int,
        default=16 << 20,
        metavar="BYTES",
        help="disconnect a client that leaves this much unread (default: 16 MiB)",
    )
    parser.add_argument(
        "--max-queued",
        type=int,
        default=10_000,
        metavar="N",
        help="messages an offline session may queue (default: 10000)",
    )
    parser.add_argument(
        "--trim-every",
        type=float,
        default=10.0,
        metavar="S",
        help="give memory freed after a burst back to the OS this often (default: 10 s)",
    )
    parser.add_argument("--tls-cert", help="serve TLS with this certificate (PEM)")
    parser.add_argument("--tls-key", help="the TLS certificate's private key (PEM)")
    parser.add_argument("--tls-ca", help="CA certificates that sign client certificates")
    parser.add_argument(
        "--require-certificate",
        action="store_true",
        help="refuse TLS clients without a certificate signed by --tls-ca",
    )
    parser.add_argument(
        "--password-file",
        type=Path,
        metavar="FILE",
        help="accept named users only with their password in this mosquitto password file",
    )
    parser.add_argument(
        "--acl-file",
        type=Path,
        metavar="FILE",
        help="decide what each client may publish and receive by this mosquitto ACL file",
    )
    identity = parser.add_mutually_exclusive_group()
    identity.add_argument(
        "--use-identity-as-username",
        action="store_const",
        const="common_name",
        dest="use_certificate",
        help="the client certificate's Common Name is the user name (needs --require-certificate)",
    )
    identity.add_argument(
        "--use-subject-as-username",
        action="store_const",
        const="subject",
        dest="use_certificate",
        help="the client certificate's whole subject is the user name (RFC 2253 form)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="keep sessions, subscriptions, queues and retained messages in SQLite files "
        "here, so that they survive a restart (default: in memory only)",
    )
    parser.add_argument("--log-level", default="INFO", help="logging level (default: INFO)")
    args = parser.parse_args(argv)
    if (args.tls_cert is None) != (args.tls_key is None):
        parser.error("--tls-cert and --tls-key go together")
    if args.require_certificate and args.tls_ca is None:
        parser.error("--require-certificate needs --tls-ca")
    if args.use_certificate is not None and not args.require_certificate:
        parser.error("a user name from the certificate needs --require-certificate")
    return args


def stores_for(args: argparse.Namespace) -> tuple[SessionInterface, StorageInterface]:
    """Open the session store and the storage: in memory, or files in ``--data-dir``."""
    if args.data_dir is None:
        return MemorySessionStore(), MemoryStorage(max_queue_length=args.max_queued)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    sessions = SqliteSessionStore(args.data_dir / "sessions.db")
    try:
        storage = SqliteStorage(args.data_dir / "storage.db", max_queue_length=args.max_queued)
    except BaseException:
        sessions.close()
        raise
    return sessions, storage


def broker_for(
    args: argparse.Namespace, sessions: SessionInterface, storage: StorageInterface
) -> Broker:
    """Build the broker the options describe, on these stores."""
    # A connected client's deliveries wait in its connection for its Receive Maximum, as
    # an offline session's wait in the storage: one bound for both.
    server = ServerConfig(max_keep_alive=args.max_keep_alive, max_queued_messages=args.max_queued)
    config = BrokerConfig(
        server=server,
        allow_anonymous=args.allow_anonymous,
        max_unread_bytes=args.max_unread,
        max_offline_messages=args.max_queued,
    )
    auth = None
    if (args.password_file, args.acl_file, args.use_certificate) != (None, None, None):
        files = FileAuth(
            args.password_file,
            args.acl_file,
            allow_anonymous=args.allow_anonymous,
            use_certificate=args.use_certificate,
        )
        auth = AsyncAuthInterface.adapt(files)
    return Broker(
        config,
        AsyncSessionInterface.adapt(sessions),
        AsyncStorageInterface.adapt(storage),
        auth,
    )


async def serve(args: argparse.Namespace) -> None:
    """Serve until SIGINT or SIGTERM."""
    sessions, storage = stores_for(args)
    try:
        await serve_on(args, sessions, storage)
    finally:
        if isinstance(sessions, SqliteSessionStore):
            sessions.close()
        storage.close()


async def serve_on(
    args: argparse.Namespace, sessions: SessionInterface, storage: StorageInterface
) -> None:
    """Serve on these stores until SIGINT or SIGTERM."""
    broker = broker_for(args, sessions, storage)
    if isinstance(sessions, SqliteSessionStore):
        restored = await broker.restore(sessions.client_ids())
        log.info("stored sessions taken up from %s: %d", args.data_dir, restored)
    tls = None
    if args.tls_cert is not None:
        tls = TlsOptions(args.tls_cert, args.tls_key, args.tls_ca, args.require_certificate)
    listener = await listen(broker, args.host, args.port, tls, trim_every=args.trim_every)
    # Printed whatever the log level: scripts and tests wait for this line.
    print(f"listening on {listener.host}:{listener.port}{' (TLS)' if tls else ''}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    if broker.auth is not None:
        # SIGHUP reads the password and ACL files again, as mosquitto does.
        loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(reload(broker)))
    await stop.wait()
    logging.getLogger("broker").info("shutting down")
    await listener.close()


async def reload(broker: Broker) -> None:
    """Read the auth files again; on a bad file keep the old rules and say why."""
    files = getattr(broker.auth, "backend", None)
    if not isinstance(files, FileAuth):
        return
    try:
        await asyncio.to_thread(files.reload)
    except (AuthenticationError, AuthorizationError) as err:
        log.error("the auth files were not reloaded (the old ones stay): %s", err)
    else:
        log.info("auth files reloaded")


def main(argv: list[str] | None = None) -> int:
    """Run the broker; return the exit status."""
    args = arguments(argv)
    logging.basicConfig(
        level=args.log_level.upper(),
        format="%(asctime)s %(levelname)s %(message)s",
        stream=sys.stdout,
    )
    try:
        asyncio.run(serve(args))
    except (StorageError, AuthenticationError, AuthorizationError) as err:
        # a data dir another broker holds, a bad password or ACL file, ...
        print(f"cannot serve: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

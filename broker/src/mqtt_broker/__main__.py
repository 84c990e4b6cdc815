"""The reference broker's command line: ``mqtt-broker --host H --port P [options]``.

Also ``python -m mqtt_broker`` and, from a clone, ``python examples/broker/``.

An asyncio MQTT broker for 3.1, 3.1.1 and 5.0 written only against mqtt_common's public
API. It prints a line with ``listening on H:P`` once it accepts connections, and stops
cleanly on SIGINT or SIGTERM. See ``--help``.

Secure by default, as mosquitto 2.0: with a password file, an ACL file or a client
certificate identity, clients without a user name are refused unless
``--allow-anonymous`` is given; with none of them, only loopback is served.

Every mistake in how it is started is one line on standard error, naming the option,
file or port and what to do: exit status 2 for a bad command line, 1 for anything else.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import ipaddress
import logging
import signal
import socket
import ssl
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

from mqtt_broker.broker import Broker, BrokerConfig
from mqtt_broker.cluster import Cluster
from mqtt_broker.config import ConfigError, JsonFormatter, option_tokens, without_overridden
from mqtt_broker.metrics import MetricsServer
from mqtt_broker.plugins import PluginError, Plugins, load_plugins, plugin_options
from mqtt_broker.server import Listener, TlsOptions, listen
from mqtt_broker.sys import SysTopics
from mqtt_common.models import (
    AuthenticationError,
    AuthorizationError,
    StorageError,
    ValidationError,
)
from mqtt_common.models.constants import MQTTProtocol
from mqtt_common.protocol import ServerConfig
from mqtt_common.src.auth import AsyncAuthChain, AsyncAuthInterface, FileAuth
from mqtt_common.src.cluster import RedisNode
from mqtt_common.src.session import (
    AsyncRedisSessionStore,
    AsyncSessionInterface,
    SqliteSessionStore,
)
from mqtt_common.src.storage import (
    AsyncRedisStorage,
    AsyncStorageInterface,
    SqliteStorage,
)

log = logging.getLogger("broker")

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
#: How long a node's lease lasts without --node-lease, in seconds.
DEFAULT_NODE_LEASE = 10
#: The longest lease a node may take, in seconds (a day).
MAX_LEASE = 24 * 3600
#: The largest TCP port number.
MAX_PORT = (1 << 16) - 1


class StartupError(Exception):
    """A reason the broker cannot start, in one line an operator can act on."""


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose errors are one line (and exit status 2).

    With ``raise_errors`` (a reload), a mistake raises ConfigError instead.
    """

    raise_errors = False

    def error(self, message: str) -> NoReturn:
        """Print the mistake in one line and exit with status 2."""
        if self.raise_errors:
            raise ConfigError(message)
        self.exit(2, f"{self.prog}: {message} (see --help)\n")


def integer(low: int, high: int, what: str) -> type[int]:
    """Return an argparse type: an integer from ``low`` to ``high``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is not {what} ({low} to {high})")
        return value

    return parse  # type: ignore[return-value]


def positive_seconds(text: str) -> float:
    """Parse a number of seconds above 0 (an argparse type)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} is not a number of seconds above 0")
    return value


#: The most seconds a duration of the library holds (Rust's ``Duration``), rounded down.
MAX_SECONDS = float(2**63)


def float_seconds(text: str) -> float:
    """Parse a number of seconds, 0 or more (an argparse type)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    # Bounded as the library's durations are (1e300 would pass argparse and fail later).
    if not 0 <= value < MAX_SECONDS:
        raise argparse.ArgumentTypeError(f"{text} is not a number of seconds, 0 or more")
    return value


def log_level(text: str) -> str:
    """Parse a logging level, in any case (an argparse type)."""
    if text.upper() not in LOG_LEVELS:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a log level (one of {', '.join(LOG_LEVELS)})"
        )
    return text.upper()


def make_parser(prog: str = "mqtt-broker") -> OneLineParser:
    """Return the command line's parser: every option, with its help."""
    parser = OneLineParser(
        prog=prog,
        description="The reference MQTT broker of mqtt-common (asyncio, public API only).",
    )
    parser.add_argument(
        "--config",
        type=Path,
        metavar="FILE",
        help="read options from this TOML file first (keys: the long options, dashes as "
        "underscores: max_keep_alive = 60); the command line overrides it; SIGHUP reads "
        "it again",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument(
        "--port",
        type=integer(0, MAX_PORT, "a port number"),
        default=1883,
        help="port (0: any free one)",
    )
    parser.add_argument(
        "--allow-anonymous",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="accept clients without a user name (default: only when there is no "
        "password file, ACL file or certificate identity, and then only on loopback)",
    )
    parser.add_argument(
        "--max-keep-alive",
        type=integer(0, MQTTProtocol.MAX_KEEP_ALIVE, "a keep alive in seconds"),
        default=None,
        metavar="S",
        help="cap the clients' keep alive, announced as Server Keep Alive",
    )
    parser.add_argument(
        "--max-unread",
        type=integer(1, 1 << 40, "a number of bytes"),
        default=16 << 20,
        metavar="BYTES",
        help="disconnect a client that leaves this much unread and reads none of it for a"
        " second, or four times as much (default: 16 MiB)",
    )
    parser.add_argument(
        "--max-queued",
        type=integer(1, 1 << 31, "a number of messages"),
        default=10_000,
        metavar="N",
        help="messages an offline session may queue (default: 10000)",
    )
    parser.add_argument(
        "--queue-full",
        choices=("drop-new", "drop-oldest"),
        default="drop-new",
        help="what a full offline queue drops: the new message (default, as mosquitto) "
        "or its oldest one",
    )
    parser.add_argument(
        "--trim-every",
        type=positive_seconds,
        default=10.0,
        metavar="S",
        help="give memory freed after a burst back to the OS this often (default: 10 s)",
    )
    parser.add_argument(
        "--tls-port",
        type=integer(0, MAX_PORT, "a port number"),
        metavar="P",
        help="serve MQTT over TLS on this port too, --port staying plain (without it, "
        "--tls-cert makes --port itself TLS)",
    )
    parser.add_argument(
        "--websockets-port",
        type=integer(0, MAX_PORT, "a port number"),
        metavar="P",
        help="serve MQTT over WebSockets on this port too (path /mqtt, subprotocol mqtt; "
        "over TLS with --tls-cert)",
    )
    parser.add_argument(
        "--max-packet-size",
        type=integer(2, MQTTProtocol.MAX_PACKET_SIZE, "a packet size in bytes"),
        default=None,
        metavar="BYTES",
        help="the largest packet a client may send (announced in CONNACK; a larger one "
        "ends its connection with 0x95 Packet too large; default: 1 MiB)",
    )
    parser.add_argument(
        "--max-connections",
        type=integer(1, 1 << 31, "a number of connections"),
        metavar="N",
        help="refuse a client's CONNECT (0x97 Quota exceeded) while N clients are "
        "connected (default: no limit)",
    )
    parser.add_argument(
        "--max-retained",
        type=integer(1, 1 << 62, "a number of messages"),
        metavar="N",
        help="how many topics may hold a retained message: one more is refused whole "
        "(0x97 Quota exceeded to a 5.0 publisher; default: no limit)",
    )
    parser.add_argument(
        "--max-retained-bytes",
        type=integer(1, 1 << 62, "a number of bytes"),
        metavar="BYTES",
        help="how many bytes of topics and payloads the retained messages may hold: one "
        "that would pass it is refused whole (0x97; default: no limit)",
    )
    parser.add_argument(
        "--max-inflight",
        # At most one in flight per packet identifier.
        type=integer(1, MQTTProtocol.MAX_PACKET_ID, "a number of messages"),
        metavar="N",
        help="how many QoS 1 and 2 messages a client may send before their "
        "acknowledgements (announced as Receive Maximum; more ends it with 0x93; "
        "default: 100)",
    )
    parser.add_argument(
        "--max-publish-rate",
        type=integer(1, 1 << 31, "a number of messages per second"),
        metavar="N",
        help="how many PUBLISH a client may send per second, with a burst of a second's "
        "worth (more ends it with 0x96 Message rate too high; default: any)",
    )
    parser.add_argument(
        "--sys-interval",
        type=float_seconds,
        default=10.0,
        metavar="S",
        help="publish the $SYS topics (retained, mosquitto's names) every S seconds; "
        "0: never (default: 10)",
    )
    parser.add_argument(
        "--metrics-port",
        type=integer(0, MAX_PORT, "a port number"),
        metavar="P",
        help="serve Prometheus metrics at http://HOST:P/metrics (connections, messages "
        "and bytes in and out by QoS, drops by cause, auth refusals, commit latency, "
        "queue depths)",
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
        "--auth-plugin",
        action="append",
        metavar="MODULE:CLASS",
        help="ask this AuthInterface or AsyncAuthInterface subclass who may connect and "
        "act (repeatable: asked in order, before the password and ACL files)",
    )
    parser.add_argument(
        "--auth-rule",
        choices=("first", "all"),
        default="first",
        help="how the auth plugins and files decide together: the first that knows the "
        "client (its knows() method) decides, or all must agree (default: first)",
    )
    parser.add_argument(
        "--storage-plugin",
        metavar="MODULE:CLASS",
        help="keep retained messages, subscriptions and queues in this StorageInterface "
        "or AsyncStorageInterface subclass (instead of --data-dir's or Redis')",
    )
    parser.add_argument(
        "--session-plugin",
        metavar="MODULE:CLASS",
        help="keep sessions and Wills in this SessionInterface or AsyncSessionInterface "
        "subclass (instead of --data-dir's or Redis')",
    )
    parser.add_argument(
        "--plugin-opt",
        action="append",
        metavar="KEY=VALUE",
        help="give the plugins whose __init__ takes KEY this value, as a string (repeatable)",
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--data-dir",
        type=Path,
        metavar="DIR",
        help="keep sessions, subscriptions, queues and retained messages in SQLite files "
        "here, so that they survive a restart (default: in memory only)",
    )
    where.add_argument(
        "--redis-url",
        metavar="URL",
        help="keep them in Redis instead (redis:// or rediss://; for a Redis Cluster, any "
        "node's URL): a PUBACK is sent once Redis has what it promises",
    )
    parser.add_argument(
        "--redis-prefix",
        default="mqtt",
        metavar="PREFIX",
        help="what every key in Redis starts with (default: mqtt)",
    )
    parser.add_argument(
        "--redis-ca",
        type=Path,
        metavar="FILE",
        help="for rediss://: trust this CA certificate (PEM) instead of the system's",
    )
    parser.add_argument(
        "--node-id",
        metavar="NAME",
        help="be this node of a cluster of brokers sharing --redis-url (and --redis-prefix): "
        "a message published on any node reaches the subscribers of every node; give each "
        "node its own name, the same across its restarts",
    )
    parser.add_argument(
        "--node-lease",
        type=integer(1, MAX_LEASE, "a lease in seconds"),
        metavar="S",
        help="how long a node counts as alive after each renewal of its lease (renewed "
        "every third of it): a node silent longer is adopted by another, which takes its "
        "sessions up and publishes their due Wills (default: 10)",
    )
    parser.add_argument(
        "--reuse-port",
        action="store_true",
        help="listen beside other processes on the same port (SO_REUSEPORT): the kernel "
        "spreads new connections among them; with --node-id and one Redis, N processes are "
        "one broker on every core",
    )
    parser.add_argument(
        "--log-level",
        type=log_level,
        default="INFO",
        help=f"logging level: {', '.join(LOG_LEVELS)} (default: INFO)",
    )
    parser.add_argument(
        "--log-format",
        choices=("text", "json"),
        default="text",
        help="log lines as text (default) or as one JSON object each, for log shippers",
    )
    return parser


def arguments(
    argv: list[str] | None = None, prog: str = "mqtt-broker", *, raise_errors: bool = False
) -> argparse.Namespace:
    """Parse the command line, after the options of its --config file.

    ``raise_errors``: raise ConfigError for a mistake rather than exit (a reload).
    """
    parser = make_parser(prog)
    parser.raise_errors = raise_errors
    given = list(sys.argv[1:] if argv is None else argv)
    config, _ = _config_option().parse_known_args(given)
    if config.config is not None:
        try:
            from_file = option_tokens(parser, config.config)
        except ConfigError as err:
            parser.error(str(err))
        given = [*without_overridden(parser, from_file, given), *given]
    args = parser.parse_args(given)
    if (args.tls_cert is None) != (args.tls_key is None):
        parser.error("--tls-cert and --tls-key go together")
    if args.tls_port is not None and args.tls_cert is None:
        parser.error("--tls-port needs --tls-cert and --tls-key")
    if args.require_certificate and args.tls_ca is None:
        parser.error("--require-certificate needs --tls-ca")
    if args.use_certificate is not None and not args.require_certificate:
        parser.error("a user name from the certificate needs --require-certificate")
    if args.node_id is not None and args.redis_url is None:
        parser.error("--node-id needs --redis-url: the nodes of a cluster share one Redis")
    if args.node_lease is not None and args.node_id is None:
        parser.error("--node-lease needs --node-id")
    if args.node_lease is None:
        args.node_lease = DEFAULT_NODE_LEASE
    return args


def _config_option() -> argparse.ArgumentParser:
    """Return a parser that only finds --config, to read the file before the rest."""
    finder = argparse.ArgumentParser(add_help=False)
    finder.add_argument("--config", type=Path)
    return finder


def has_auth_source(args: argparse.Namespace) -> bool:
    """Whether the options name something that decides who may connect."""
    return has_auth_files(args) or bool(args.auth_plugin)


def has_auth_files(args: argparse.Namespace) -> bool:
    """Whether the options name mosquitto's files or a certificate identity."""
    return (args.password_file, args.acl_file, args.use_certificate) != (None, None, None)


def anonymous_allowed(args: argparse.Namespace) -> bool:
    """Whether anonymous clients are accepted, as mosquitto 2.0 decides by default.

    Raises StartupError for anonymous clients on a non-loopback address that nothing
    controls: serving them takes an explicit ``--allow-anonymous``.
    """
    if args.allow_anonymous is not None:
        return bool(args.allow_anonymous)
    if has_auth_source(args):
        return False
    if not is_loopback(args.host):
        raise StartupError(
            f"refusing to serve anonymous clients on {args.host or 'every address'} with "
            "no --password-file, --acl-file or certificate identity: give "
            "--allow-anonymous to serve them anyway, or an auth source"
        )
    return True


def is_loopback(host: str) -> bool:
    """Whether every address ``host`` names is a loopback address."""
    if not host:
        return False  # every interface
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, None)
    except OSError:
        return False  # the bind will say what is wrong with it
    return bool(found) and all(
        ipaddress.ip_address(str(address[4][0]).split("%")[0]).is_loopback for address in found
    )


def check_file(path: str | Path | None, what: str) -> None:
    """Raise StartupError unless ``path`` (if given) is a file this process can read."""
    if path is None:
        return
    try:
        with open(path, "rb"):
            pass
    except IsADirectoryError:
        raise StartupError(f"cannot read the {what} {path}: it is a directory") from None
    except OSError as err:
        raise StartupError(f"cannot read the {what} {path}: {err.strerror}") from None


@dataclass
class Stores:
    """Where the broker keeps its state.

    The stores as the broker calls them, and how to list the stored sessions at a start
    and let go of the stores at the end.
    """

    sessions: AsyncSessionInterface
    storage: AsyncStorageInterface
    #: Where they are, for the log.
    where: str
    client_ids: Callable[[], Awaitable[list[str]]]
    close: Callable[[], Awaitable[None]]


def stores_for(args: argparse.Namespace, plugins: Plugins | None = None) -> Stores | None:
    """Open the stores in ``--data-dir`` or Redis, or the plugins'.

    A plugin's store replaces that of ``--data-dir`` or Redis. None without any: the
    router's memory is all.
    """
    opened = _opened_stores(args)
    if plugins is None or (plugins.storage is None and plugins.sessions is None):
        return opened
    if opened is None and (plugins.storage is None or plugins.sessions is None):
        given = "--storage-plugin" if plugins.storage is not None else "--session-plugin"
        other = "--session-plugin" if plugins.storage is not None else "--storage-plugin"
        raise StartupError(
            f"{given} needs the other store as well: {other}, --data-dir or --redis-url"
        )
    sessions = plugins.sessions or (opened.sessions if opened else None)
    storage = plugins.storage or (opened.storage if opened else None)
    # One or the other gave each.
    assert sessions is not None
    assert storage is not None
    names = [args.session_plugin, args.storage_plugin, opened.where if opened else None]

    async def close() -> None:
        if opened is not None:
            await opened.close()

    return Stores(sessions, storage, ", ".join(n for n in names if n), sessions.client_ids, close)


def _opened_stores(args: argparse.Namespace) -> Stores | None:
    """Open the stores in ``--data-dir`` or Redis; None without either."""
    if args.redis_url is not None:
        return redis_stores(args.redis_url, args.redis_prefix, args.redis_ca)
    if args.data_dir is None:
        return None
    if args.data_dir.exists() and not args.data_dir.is_dir():
        raise StartupError(
            f"--data-dir {args.data_dir} is a file: name a directory (it is made if missing)"
        )
    try:
        args.data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise StartupError(f"cannot make --data-dir {args.data_dir}: {err.strerror}") from None
    sessions = SqliteSessionStore(args.data_dir / "sessions.db")
    try:
        # The router bounds the queues (--max-queued, --queue-full): the file keeps all.
        storage = SqliteStorage(args.data_dir / "storage.db", max_queue_length=None)
    except BaseException:
        sessions.close()
        raise

    async def client_ids() -> list[str]:
        return sessions.client_ids()

    async def close() -> None:
        sessions.close()
        storage.close()

    return Stores(
        AsyncSessionInterface.adapt(sessions),
        AsyncStorageInterface.adapt(storage),
        str(args.data_dir),
        client_ids,
        close,
    )


def redis_stores(url: str, prefix: str, tls_ca: Path | None = None) -> Stores:
    """Open the Redis stores (native asynchronous backends: no thread per call)."""
    sessions = AsyncRedisSessionStore(url, prefix=prefix, tls_ca=tls_ca)
    # The router bounds the queues (--max-queued, --queue-full): Redis keeps all.
    storage = AsyncRedisStorage(url, prefix=prefix, tls_ca=tls_ca, max_queue_length=None)
    cluster = " (a cluster)" if storage.is_cluster else ""
    log.info("state kept in Redis at %s under %r%s", storage.server, prefix, cluster)

    async def close() -> None:
        await sessions.close()
        await storage.close()

    return Stores(sessions, storage, storage.server, sessions.client_ids, close)


def broker_for(args: argparse.Namespace, stores: Stores | None, plugins: Plugins) -> Broker:
    """Build the broker the options describe, on these stores (None: in memory only)."""
    # A connected client's deliveries wait in its connection for its Receive Maximum, as
    # what a session is owed waits in the router: one bound for both. With stores, the
    # engines hold acknowledgements until what they promise is stored.
    server = server_config(args, stores is not None)
    allow_anonymous = anonymous_allowed(args)
    config = BrokerConfig(
        server=server,
        allow_anonymous=allow_anonymous,
        max_unread_bytes=args.max_unread,
        max_offline_messages=args.max_queued,
        queue_full="drop_new" if args.queue_full == "drop-new" else "drop_oldest",
        node_id=args.node_id,
        max_connections=args.max_connections,
        max_retained_messages=args.max_retained,
        max_retained_bytes=args.max_retained_bytes,
    )
    auth = auth_for(file_auth(args), plugins, args.auth_rule)
    if stores is None:
        return Broker(config, auth=auth)
    return Broker(config, stores.sessions, stores.storage, auth)


def server_config(args: argparse.Namespace, durable: bool) -> ServerConfig:
    """Return the engine's settings the options give (``durable``: with stores)."""
    return ServerConfig(
        max_keep_alive=args.max_keep_alive,
        max_queued_messages=args.max_queued,
        hold_acknowledgements=durable,
        maximum_packet_size=args.max_packet_size or ServerConfig().maximum_packet_size,
        receive_maximum=args.max_inflight or ServerConfig().receive_maximum,
        max_publish_rate=args.max_publish_rate,
    )


def auth_for(files: FileAuth | None, plugins: Plugins, rule: str) -> AsyncAuthInterface | None:
    """Return the auth provider: the plugins' and the files', chained; None without any."""
    providers: list[AsyncAuthInterface] = list(plugins.auth)
    if files is not None:
        providers.append(AsyncAuthInterface.adapt(files))
    if len(providers) <= 1:
        return providers[0] if providers else None
    return AsyncAuthChain(providers, rule="all" if rule == "all" else "first")


def files_of(auth: AsyncAuthInterface | None) -> FileAuth | None:
    """Return the files' provider in the broker's auth provider (alone or chained), if any."""
    chained = auth.providers if isinstance(auth, AsyncAuthChain) else [auth]
    for provider in chained:
        backend = getattr(provider, "backend", None)
        if isinstance(backend, FileAuth):
            return backend
    return None


def plugins_for(args: argparse.Namespace) -> Plugins:
    """Load the plugins the options name (raises StartupError for a bad one)."""
    try:
        options = plugin_options(args.plugin_opt or [])
        return load_plugins(
            args.auth_plugin or [], args.storage_plugin, args.session_plugin, options
        )
    except PluginError as err:
        raise StartupError(str(err)) from None


def file_auth(args: argparse.Namespace) -> FileAuth | None:
    """Return the auth provider the options name (mosquitto's files), or None."""
    if not has_auth_files(args):
        return None
    check_file(args.password_file, "password file")
    check_file(args.acl_file, "ACL file")
    return FileAuth(
        args.password_file,
        args.acl_file,
        allow_anonymous=anonymous_allowed(args),
        use_certificate=args.use_certificate,
    )


async def serve(args: argparse.Namespace) -> None:
    """Serve until SIGINT or SIGTERM."""
    anonymous_allowed(args)  # refuse an unprotected public address before opening files
    plugins = plugins_for(args)
    try:
        stores = stores_for(args, plugins)
        try:
            await serve_on(args, stores, plugins)
        finally:
            if stores is not None:
                await stores.close()
    finally:
        await plugins.close()


async def serve_on(args: argparse.Namespace, stores: Stores | None, plugins: Plugins) -> None:
    """Serve on these stores until SIGINT or SIGTERM."""
    broker = broker_for(args, stores, plugins)
    cluster = await take_up(broker, args, stores)
    tls = None
    if args.tls_cert is not None:
        tls = TlsOptions(args.tls_cert, args.tls_key, args.tls_ca, args.require_certificate)
        check_tls(tls)
    listeners = await open_listeners(broker, args, tls)
    listener = listeners[0]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    # SIGHUP reads the config file and the auth files again, as mosquitto does.
    settings = [args]

    async def hang_up() -> None:
        settings[0] = await reload(broker, settings[0], plugins)

    loop.add_signal_handler(signal.SIGHUP, lambda: loop.create_task(hang_up()))
    try:
        metrics = await serve_metrics(broker, args)
    except StartupError:
        for each in listeners:
            each.stop_accepting()
        raise
    # Printed whatever the log level, once a signal stops it cleanly: scripts and tests
    # wait for this line.
    for each in listeners:
        print(f"listening on {each}", flush=True)
    if metrics is not None:
        print(f"listening on {metrics.where} (metrics)", flush=True)
    if cluster is not None:
        await cluster.start()
    sys_topics = None
    if args.sys_interval > 0:
        publishing = SysTopics(broker, args.sys_interval, args.node_id).run()
        sys_topics = loop.create_task(publishing)
    await stop.wait()
    logging.getLogger("broker").info("shutting down")
    if sys_topics is not None:
        sys_topics.cancel()
    for running in (metrics, cluster):
        if running is not None:
            running.stop()
    for other in listeners[1:]:
        other.stop_accepting()
    await listener.close()


async def take_up(
    broker: Broker, args: argparse.Namespace, stores: Stores | None
) -> Cluster | None:
    """Join the cluster (with --node-id), and take up the stored sessions.

    A node takes up the sessions it held; a lone broker, all. Return the broker's part
    in the cluster, if any.
    """
    if stores is None:
        return None
    client_ids = stores.client_ids
    cluster = None
    if args.node_id is not None:
        cluster = await join(broker, args)
        client_ids = cluster.node.client_ids
    restored = await broker.restore(await client_ids())
    log.info("stored sessions taken up from %s: %d", stores.where, restored)
    return cluster


async def serve_metrics(broker: Broker, args: argparse.Namespace) -> MetricsServer | None:
    """Serve /metrics on --metrics-port, if given."""
    if args.metrics_port is None:
        return None
    metrics = MetricsServer(broker)
    try:
        await metrics.start(args.host, args.metrics_port)
    except OSError as err:
        raise StartupError(cannot_listen(args.host, args.metrics_port, err)) from None
    return metrics


async def open_listeners(
    broker: Broker, args: argparse.Namespace, tls: TlsOptions | None
) -> list[Listener]:
    """Listen where the options say: --port first, then --tls-port, --websockets-port.

    --port is TLS when TLS is configured and --tls-port is not given (one listener).
    """
    wanted: list[tuple[int, TlsOptions | None, bool]] = [
        (args.port, tls if args.tls_port is None else None, False)
    ]
    if args.tls_port is not None:
        wanted.append((args.tls_port, tls, False))
    if args.websockets_port is not None:
        wanted.append((args.websockets_port, tls, True))
    listeners: list[Listener] = []
    for port, over_tls, websockets in wanted:
        try:
            listeners.append(
                await listen(
                    broker,
                    args.host,
                    port,
                    over_tls,
                    # One listener gives freed memory back for the whole broker.
                    trim_every=0 if listeners else args.trim_every,
                    reuse_port=args.reuse_port,
                    websockets=websockets,
                )
            )
        except OSError as err:
            for opened in listeners:
                opened.stop_accepting()
            raise StartupError(cannot_listen(args.host, port, err)) from None
    return listeners


async def join(broker: Broker, args: argparse.Namespace) -> Cluster:
    """Join the cluster in --redis-url as --node-id; return this broker's part in it."""
    joined = await RedisNode.join(
        args.redis_url,
        args.node_id,
        prefix=args.redis_prefix,
        lease=float(args.node_lease),
        tls_ca=args.redis_ca,
    )
    log.info(
        "node %s of the cluster under %r: %d filters of other nodes",
        args.node_id,
        args.redis_prefix,
        len(joined.filters),
    )
    cluster = Cluster(broker, joined, float(args.node_lease))
    broker.cluster = cluster
    return cluster


def check_tls(tls: TlsOptions) -> None:
    """Raise StartupError unless the TLS files exist and make a server context."""
    check_file(tls.certificate, "TLS certificate (--tls-cert)")
    check_file(tls.key, "TLS key (--tls-key)")
    check_file(tls.ca, "CA file (--tls-ca)")
    try:
        tls.context()
    except ssl.SSLError as err:
        files = f"{tls.certificate} and {tls.key}" + (f" with {tls.ca}" if tls.ca else "")
        raise StartupError(
            f"cannot use {files} for TLS: {err.reason or err} (PEM files, the key "
            "belonging to the certificate)"
        ) from None


def cannot_listen(host: str, port: int, err: OSError) -> str:
    """Say why the broker cannot listen on ``host:port``, and what to do."""
    where = f"{host}:{port}"
    if err.errno == errno.EADDRINUSE:
        return f"cannot listen on {where}: the port is in use (stop what uses it, or --port)"
    if err.errno == errno.EACCES:
        return f"cannot listen on {where}: permission denied (ports below 1024 need privileges)"
    if err.errno == errno.EADDRNOTAVAIL:
        return f"cannot listen on {where}: no interface of this machine has that address"
    if isinstance(err, socket.gaierror):
        return f"cannot listen on {where}: unknown host name ({err.strerror})"
    return f"cannot listen on {where}: {err.strerror or err}"


#: What SIGHUP changes without a restart (the others wait for the next start).
RELOADABLE = frozenset(
    {
        "password_file",
        "acl_file",
        "use_certificate",
        "allow_anonymous",
        "log_level",
        "max_unread",
        "max_keep_alive",
        # The engine's, for the connections made from then on:
        "max_packet_size",
        "max_inflight",
        "max_publish_rate",
        # The router's, at once:
        "max_connections",
        "max_retained",
        "max_retained_bytes",
    }
)
#: The router's bounds (``Router.set_bounds``).
ROUTER_BOUNDS = frozenset({"max_connections", "max_retained", "max_retained_bytes"})
#: The options that decide who may connect and what they may do.
AUTH_OPTIONS = frozenset({"password_file", "acl_file", "use_certificate", "allow_anonymous"})


async def reload(
    broker: Broker, args: argparse.Namespace, plugins: Plugins | None = None
) -> argparse.Namespace:
    """Read the config file (if any) and the auth files again; apply what may change now.

    Logs what changed, and what waits for a restart; on a bad file keeps the old
    settings and says why. Returns the settings in force.
    """
    new = args
    if args.config is not None:
        try:
            command_line = getattr(args, "command_line", [])
            new = arguments(command_line, raise_errors=True)
            new.command_line = command_line
            anonymous_allowed(new)  # refuses an unprotected public address
        except (ConfigError, StartupError) as err:
            log.error("%s was not reloaded (the old settings stay): %s", args.config, err)
            return args
    changed = {
        key: (getattr(args, key, None), value)
        for key, value in vars(new).items()
        if getattr(args, key, None) != value and key != "command_line"
    }
    for key in changed.keys() - RELOADABLE:
        # Kept as it runs: the next reload says it again, until a restart.
        setattr(new, key, getattr(args, key))
    try:
        if changed.keys() & AUTH_OPTIONS:
            files = await asyncio.to_thread(file_auth, new)
            broker.auth = auth_for(files, plugins or Plugins(), args.auth_rule)
            broker.config.allow_anonymous = anonymous_allowed(new)
        elif (files := files_of(broker.auth)) is not None:
            await asyncio.to_thread(files.reload)
    except (AuthenticationError, AuthorizationError, StartupError) as err:
        log.error("the auth files were not reloaded (the old settings stay): %s", err)
        return args
    if broker.auth is not None:
        log.info("auth files reloaded")
    if "log_level" in changed:
        logging.getLogger().setLevel(new.log_level)
    apply_limits(broker, new, set(changed))
    applied = [
        f"{key} {old!r} -> {value!r}" for key, (old, value) in changed.items() if key in RELOADABLE
    ]
    if applied:
        log.info("%s reloaded: %s", args.config, ", ".join(applied))
    for key in sorted(changed.keys() - RELOADABLE):
        log.warning("%s changed in %s: it takes effect at the next start", key, args.config)
    return new


def apply_limits(broker: Broker, new: argparse.Namespace, changed: set[str]) -> None:
    """Apply the limits a reload changed: the engine's for new connections, the router's."""
    if "max_unread" in changed:
        broker.config.max_unread_bytes = new.max_unread
    if changed & {"max_keep_alive", "max_packet_size", "max_inflight", "max_publish_rate"}:
        broker.config.server = server_config(new, broker.durable)
    if changed & ROUTER_BOUNDS:
        broker.config.max_connections = new.max_connections
        broker.config.max_retained_messages = new.max_retained
        broker.config.max_retained_bytes = new.max_retained_bytes
        broker.router.set_bounds(
            max_retained_messages=new.max_retained,
            max_retained_bytes=new.max_retained_bytes,
            max_connections=new.max_connections,
        )


def main(argv: list[str] | None = None, prog: str = "mqtt-broker") -> int:
    """Run the broker; return the exit status."""
    args = arguments(argv, prog)
    args.command_line = list(sys.argv[1:] if argv is None else argv)
    handler = logging.StreamHandler(sys.stdout)
    if args.log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    logging.basicConfig(level=args.log_level, handlers=[handler])
    try:
        asyncio.run(serve(args))
    except StartupError as err:
        print(f"cannot start: {err}", file=sys.stderr)
        return 1
    except (StorageError, AuthenticationError, AuthorizationError, ValidationError) as err:
        # a data dir another broker holds, a bad password or ACL file, ...
        print(f"cannot start: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:  # a second Ctrl-C while shutting down
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Plugins: a user's auth provider, storage or session store, named on the command line.

``--auth-plugin module:Class`` loads an ``AuthInterface`` or ``AsyncAuthInterface``
subclass (repeatable: each joins the chain, in order, before the password and ACL
files); ``--storage-plugin module:Class`` a ``StorageInterface`` or
``AsyncStorageInterface``; ``--session-plugin module:Class`` a ``SessionInterface`` or
``AsyncSessionInterface``. Synchronous ones are adapted (their calls run on a worker
thread unless the class says ``blocking = False``).

Each class is called with the ``--plugin-opt key=value`` pairs its ``__init__`` takes
as keyword arguments (strings; one that takes ``**options`` gets them all). A pair no
plugin takes is an error, as is a module that does not import, a name it does not
have, a class of the wrong kind, or a constructor that raises: each one line naming
the option.
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from mqtt_common.src.auth import AsyncAuthInterface, AuthInterface
from mqtt_common.src.session import AsyncSessionInterface, SessionInterface
from mqtt_common.src.storage import AsyncStorageInterface, StorageInterface

__all__ = ["PluginError", "Plugins", "load_plugins", "plugin_options"]


class PluginError(Exception):
    """A plugin the broker cannot load, in one line naming the option."""


@dataclass
class Plugins:
    """The plugins the options name, loaded, adapted to the async family."""

    #: Auth providers, in the order they are asked (before the files).
    auth: list[AsyncAuthInterface] = field(default_factory=list)
    #: The storage, if a plugin provides it.
    storage: AsyncStorageInterface | None = None
    #: The session store, if a plugin provides it.
    sessions: AsyncSessionInterface | None = None
    #: How to let go of the plugins' resources at the end (their ``close()``, if any).
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    async def close(self) -> None:
        """Close every plugin that has a ``close()``, in reverse order."""
        for close in reversed(self.closers):
            await close()


def plugin_options(pairs: Iterable[str]) -> dict[str, str]:
    """Parse ``key=value`` pairs (``--plugin-opt``); a later key replaces an earlier one."""
    options: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.isidentifier():
            msg = f"--plugin-opt {pair!r}: give key=value, the key a Python identifier"
            raise PluginError(msg)
        options[key] = value
    return options


def load_plugins(
    auth: Iterable[str],
    storage: str | None,
    sessions: str | None,
    options: dict[str, str],
) -> Plugins:
    """Load and make the plugins the options name.

    Those of ``--auth-plugin``, ``--storage-plugin`` and ``--session-plugin``, each given
    the ``--plugin-opt`` pairs it takes.
    """
    plugins = Plugins()
    taken: set[str] = set()
    for spec in auth:
        cls = _class("--auth-plugin", spec, (AuthInterface, AsyncAuthInterface))
        provider = _make("--auth-plugin", spec, cls, options, taken)
        plugins.auth.append(_asynchronous(provider, AsyncAuthInterface))
    if storage is not None:
        cls = _class("--storage-plugin", storage, (StorageInterface, AsyncStorageInterface))
        store = _make("--storage-plugin", storage, cls, options, taken)
        plugins.storage = _asynchronous(store, AsyncStorageInterface)
        plugins.closers.append(plugins.storage.close)
    if sessions is not None:
        kinds = (SessionInterface, AsyncSessionInterface)
        store = _make(
            "--session-plugin",
            sessions,
            _class("--session-plugin", sessions, kinds),
            options,
            taken,
        )
        plugins.sessions = _asynchronous(store, AsyncSessionInterface)
        closer = _closer(store)
        if closer is not None:
            plugins.closers.append(closer)
    unused = sorted(options.keys() - taken)
    if unused:
        msg = f"--plugin-opt {', '.join(unused)}: no plugin takes it"
        raise PluginError(msg)
    return plugins


def _class(option: str, spec: str, kinds: tuple[type, ...]) -> type:
    """Import the class ``spec`` (``module:Class``) names; check that it is of ``kinds``."""
    module_name, sep, name = spec.partition(":")
    if not sep or not module_name or not name:
        msg = f"{option} {spec!r}: give module:Class (a module Python can import)"
        raise PluginError(msg)
    try:
        found: Any = importlib.import_module(module_name)
    except Exception as err:  # an import runs the user's code: any error is theirs
        msg = f"{option} {spec}: cannot import {module_name}: {type(err).__name__}: {err}"
        raise PluginError(msg) from None
    for part in name.split("."):
        try:
            found = getattr(found, part)
        except AttributeError:
            msg = f"{option} {spec}: {module_name} has no {name}"
            raise PluginError(msg) from None
    if not (isinstance(found, type) and issubclass(found, kinds)):
        wanted = " or ".join(kind.__name__ for kind in kinds)
        msg = f"{option} {spec}: not a subclass of {wanted}"
        raise PluginError(msg)
    return found


def _make(option: str, spec: str, cls: type, options: dict[str, str], taken: set[str]) -> Any:
    """Call ``cls`` with the options its ``__init__`` takes; note which it took."""
    parameters: list[inspect.Parameter] = []
    # A class without a signature to read (one in C) takes no options.
    with contextlib.suppress(TypeError, ValueError):
        parameters = list(inspect.signature(cls).parameters.values())
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters):
        given = dict(options)
    else:
        names = {
            p.name
            for p in parameters
            if p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        }
        given = {key: value for key, value in options.items() if key in names}
    try:
        made = cls(**given)
    except Exception as err:  # the user's constructor: any error is theirs, said in a line
        msg = f"{option} {spec}: {cls.__name__}() failed: {type(err).__name__}: {err}"
        raise PluginError(msg) from None
    taken.update(given)
    return made


def _asynchronous(implementation: Any, interface: type[Any]) -> Any:
    """Return the implementation as a member of the async family (adapted if needed)."""
    if isinstance(implementation, interface):
        return implementation
    return interface.adapt(implementation)


def _closer(store: object) -> Callable[[], Awaitable[None]] | None:
    """Return an awaitable ``close`` for a store that has one (sync or async)."""
    close = getattr(store, "close", None)
    if close is None:
        return None

    async def closing() -> None:
        result = close()
        if inspect.isawaitable(result):
            await result

    return closing

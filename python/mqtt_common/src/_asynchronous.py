"""The async interface family's machinery: coroutine methods only, and one-call adapters.

An asynchronous interface's methods are ``async def``: a plain ``def`` is refused when the
class is created, as its caller would ``await`` a value that is not awaitable. Any
synchronous implementation becomes an asynchronous one with ``Interface.adapt(backend)``:
non-blocking backends (the Rust-backed memory stores) are called inline, blocking ones
on a worker thread, so that the event loop never waits on them.

A blocking backend may list in ``_inline`` the calls that still return at once (an auth
provider's ``authorize``, say, when only ``authenticate`` hashes): those are made
inline. A backend may also start a call itself and report when it is done (its other
calls are then made inline): if it lists ``name`` in ``_startable``, the adapter gets a report
channel with ``_completions()`` (one per event loop: ``fileno()`` becomes readable when
answers wait, ``take()`` returns them as ``(token, value, error)``), starts calls with
``_start(completions, token, name, *args)``, and resolves each awaited call from the
loop itself. The SQLite storage does
this: calls made together from one event loop share a commit, with no thread per call
and one wake-up of the loop per commit.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import weakref
from collections.abc import Callable, Coroutine
from concurrent.futures import Executor
from typing import Any, ClassVar, Self

from mqtt_common import _core

__all__ = ["AsynchronousInterface"]


def _forwarder(name: str) -> Callable[..., Coroutine[Any, Any, Any]]:
    """Return an ``async def`` that calls the adapted backend's method ``name``."""

    async def forward(self: _Adapter, *args: Any, **kwargs: Any) -> Any:
        backend = self._backend
        way = _own_way(type(backend), name) if self._executor is None else None
        if way == "start":
            return await _started(self, name, args, kwargs)
        method = getattr(backend, name)
        if way == "inline" or not self._blocking:
            return method(*args, **kwargs)
        call = functools.partial(method, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    forward.__name__ = forward.__qualname__ = name
    return forward


def _awaiting(name: str, native: Callable[..., Any]) -> Callable[..., Coroutine[Any, Any, Any]]:
    """Return an ``async def`` that awaits the future the native method ``name`` returns."""

    async def call(self: Any, *args: Any, **kwargs: Any) -> Any:
        return await native(self, *args, **kwargs)

    call.__name__ = call.__qualname__ = name
    call.__doc__ = native.__doc__
    return call


class _Reports:
    """Where calls started from one event loop report back to it."""

    __slots__ = ("__weakref__", "_loop", "completions", "next_token", "waiting")

    def __init__(self, completions: Any, loop: asyncio.AbstractEventLoop) -> None:
        # Weakly: the loop holds its channel (its reader), not the other way round, so
        # that a finished loop and its channel's socket pair are freed with it.
        self._loop = weakref.ref(loop)
        self.completions = completions
        self.waiting: dict[int, asyncio.Future[Any]] = {}
        self.next_token = 0
        loop.add_reader(self.completions.fileno(), self.collect)

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        """The loop the calls report back to; None once it is gone."""
        return self._loop()

    def collect(self) -> None:
        """Resolve the calls whose answers came (the loop calls this when told)."""
        for token, value, error in self.completions.take():
            future = self.waiting.pop(token, None)
            if future is None or future.done():  # cancelled: the call happened anyway
                continue
            if error is not None:
                future.set_exception(error)
            else:
                future.set_result(value)

    def expect(self) -> tuple[int, asyncio.Future[Any]]:
        """Return a new call's token and the future its answer will resolve."""
        token = self.next_token
        self.next_token += 1
        loop = self.loop
        assert loop is not None, "a call is made from a running loop"
        future = loop.create_future()
        self.waiting[token] = future
        return token, future

    def start(self, backend: Any, name: str, args: tuple[Any, ...]) -> asyncio.Future[Any]:
        """Start one call; return the future its answer resolves."""
        token, future = self.expect()
        try:
            backend._start(self.completions, token, name, *args)
        except BaseException:
            del self.waiting[token]
            raise
        return future


#: The report channel of each event loop that awaits Rust backends' calls.
_native: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Reports] = (
    weakref.WeakKeyDictionary()
)


def _native_reports() -> _Reports:
    """Return the running loop's channel for Rust backends' answers (made on first use).

    A Rust backend's method calls ``expect()`` on it for the future it returns, and
    its task on the extension's runtime hands the answer to ``completions``.
    """
    loop = asyncio.get_running_loop()
    reports = _native.get(loop)
    if reports is None:
        reports = _Reports(_core._Completions(), loop)
        _native[loop] = reports
    return reports


async def _started(
    adapter: _Adapter, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> Any:
    """Start ``backend.name(*args, **kwargs)`` itself; await its answer."""
    backend = adapter._backend
    if kwargs:
        bound = _signature(type(backend), name).bind(backend, *args, **kwargs)
        args = bound.args[1:]
    loop = asyncio.get_running_loop()
    reports = adapter._reports
    if reports is None or reports.loop is not loop:
        reports = _Reports(backend._completions(), loop)
        adapter._reports = reports  # type: ignore[misc]  # a slot of the adapter class
    return await reports.start(backend, name, args)


_ways: dict[tuple[type, str], str | None] = {}


def _own_way(cls: type, name: str) -> str | None:
    """Return how a backend that says how to call it wants ``name`` called (cached).

    "start" for the calls it lists in ``_startable``; "inline" for those it lists in
    ``_inline`` (they return at once, even if others block), and for all others of a
    backend that starts calls itself; None for any other backend, or for a method a
    subclass overrides (the override may block: the usual rules apply).
    """
    key = (cls, name)
    if key not in _ways:
        _ways[key] = None
        for owner in cls.__mro__:
            startable = owner.__dict__.get("_startable")
            inline = owner.__dict__.get("_inline")
            if startable is None and inline is None:
                continue
            if getattr(cls, name) is getattr(owner, name):
                if name in (startable or ()):
                    _ways[key] = "start"
                elif startable is not None or name in (inline or ()):
                    _ways[key] = "inline"
            break
    return _ways[key]


def _signature(cls: type, name: str) -> inspect.Signature:
    """Return the signature of a backend's method, to bind keywords to positions."""
    return inspect.signature(getattr(cls, name))


class _Adapter:
    """State of an adapter: the synchronous backend and how to call it."""

    __slots__ = ()
    _backend: Any
    _blocking: bool
    _executor: Executor | None
    #: Where calls the backend starts itself report back (made on first use).
    _reports: _Reports | None


class AsynchronousInterface:
    """Mixin of the asynchronous interfaces: their methods must be ``async def``.

    An interface class passes ``interface=True``; its public methods are then the ones a
    subclass must define as coroutine functions.
    """

    __slots__ = ()

    #: The methods of the interface, which must be coroutine functions.
    _interface_methods: ClassVar[frozenset[str]] = frozenset()
    #: The adapter class of this interface, made on first use.
    _adapter: ClassVar[type | None] = None
    #: Set by a class whose methods are a Rust backend's (they return asyncio futures):
    #: each is then wrapped in a coroutine function.
    _native_awaitables: ClassVar[bool] = False

    def __init_subclass__(cls, *, interface: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if interface:
            cls._interface_methods = frozenset(
                name
                for name, value in vars(cls).items()
                if not name.startswith("_") and inspect.iscoroutinefunction(value)
            )
            cls._adapter = None
            return
        if cls.__dict__.get("_native_awaitables", False):
            # A Rust backend's methods return asyncio futures: each becomes a coroutine
            # function, so that the class keeps the interface's promise (asyncio.run,
            # create_task and iscoroutinefunction work as with any implementation).
            for name in cls._interface_methods:
                setattr(cls, name, _awaiting(name, getattr(cls, name)))
            return
        for name in sorted(cls._interface_methods):
            method = inspect.getattr_static(cls, name, None)
            if isinstance(method, (staticmethod, classmethod)):
                method = method.__func__
            if method is not None and not inspect.iscoroutinefunction(method):
                msg = (
                    f"{cls.__qualname__}.{name} is a plain def, but "
                    f"{_interface_of(cls).__name__} is asynchronous: make it an async def, "
                    f"or implement the synchronous interface and adapt it with adapt()"
                )
                raise TypeError(msg)

    @classmethod
    def adapt(
        cls,
        backend: object,
        *,
        blocking: bool | None = None,
        executor: Executor | None = None,
    ) -> Self:
        """Return an asynchronous view of a synchronous implementation of this interface.

        ``blocking`` says whether the backend's calls may wait (on the network, the disk,
        a password hash): they then run on a worker thread of ``executor`` (default: the
        event loop's). Left as None, it is the backend's own ``blocking`` attribute, which
        the Rust-backed memory stores set to False (they are called inline), and True for
        any other backend.
        """
        interface = _interface_of(cls)
        missing = [name for name in interface._interface_methods if not hasattr(backend, name)]
        if missing:
            msg = f"{type(backend).__name__} cannot be adapted to {interface.__name__}: "
            msg += f"it has no {', '.join(sorted(missing))}"
            raise TypeError(msg)
        adapter_class: Any = interface._adapter_class()
        adapter = adapter_class.__new__(adapter_class)
        adapter._backend = backend
        adapter._blocking = getattr(backend, "blocking", True) if blocking is None else blocking
        adapter._executor = executor
        adapter._reports = None
        return adapter  # type: ignore[no-any-return]

    @classmethod
    def _adapter_class(cls) -> type[Any]:
        """Make (once) the adapter class: the interface with every method forwarded."""
        adapter: type[Any] | None = cls.__dict__.get("_adapter")
        if adapter is None:
            methods: dict[str, Any] = {name: _forwarder(name) for name in cls._interface_methods}
            methods["__slots__"] = ("_backend", "_blocking", "_executor", "_reports")
            methods["__repr__"] = lambda self: f"{cls.__name__}.adapt({self._backend!r})"
            methods["backend"] = property(
                lambda self: self._backend, doc="The adapted synchronous backend."
            )
            adapter = type(f"{cls.__name__}Adapter", (cls,), methods)
            cls._adapter = adapter
        return adapter


def _interface_of(cls: type) -> type[AsynchronousInterface]:
    """Return the interface class (the one that passed ``interface=True``) above ``cls``."""
    for base in cls.__mro__:
        if "_interface_methods" in base.__dict__ and base.__dict__.get("_interface_methods"):
            return base
    return AsynchronousInterface

"""What every synchronous interface refuses: ``async def`` methods, at class creation.

A coroutine is truthy, so an ``async def authenticate`` called without ``await`` would let
everyone in; a backend that must wait on I/O belongs to the async interface family.
"""

from __future__ import annotations

import inspect
from typing import Any, ClassVar

__all__ = ["SynchronousInterface"]


class SynchronousInterface:
    """Mixin of the synchronous interfaces: subclasses may not define their methods async.

    An interface class passes ``interface=True``; its public methods are then the ones a
    subclass must define as plain functions.
    """

    __slots__ = ()

    #: The methods of the interface, which must not be coroutine functions.
    _interface_methods: ClassVar[frozenset[str]] = frozenset()

    def __init_subclass__(cls, *, interface: bool = False, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if interface:
            cls._interface_methods = frozenset(
                name
                for name in dir(cls)
                if not name.startswith("_") and callable(getattr(cls, name, None))
            )
            return
        for name in sorted(cls._interface_methods):
            method = inspect.getattr_static(cls, name, None)
            if isinstance(method, (staticmethod, classmethod)):
                method = method.__func__
            if inspect.iscoroutinefunction(method) or inspect.isasyncgenfunction(method):
                interface_name = next(
                    base.__name__
                    for base in cls.__mro__
                    if base.__dict__.get("_interface_methods") is cls._interface_methods
                )
                msg = (
                    f"{cls.__qualname__}.{name} is an async def, but {interface_name} is "
                    f"synchronous: make it a plain def that returns promptly, or implement "
                    f"the async interface family instead"
                )
                raise TypeError(msg)

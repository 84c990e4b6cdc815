"""A synchronous view of an asynchronous implementation, for the contract suites.

One suite then checks both families: each method runs the coroutine to completion on a
private event loop.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from mqtt_common.src._asynchronous import AsynchronousInterface

Interface = TypeVar("Interface")


def blocking_view(
    implementation: AsynchronousInterface, interface: Callable[[], Interface]
) -> Interface:
    """Return an instance of the synchronous ``interface`` that awaits ``implementation``.

    ``interface`` is the synchronous ABC (typed as a callable so that an abstract class
    may be passed).
    """
    loop = asyncio.new_event_loop()

    def blocking(name: str) -> Any:
        async def awaited(*args: Any, **kwargs: Any) -> Any:
            # Called inside the loop: a native backend binds its future to the running one.
            return await getattr(implementation, name)(*args, **kwargs)

        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            return loop.run_until_complete(awaited(*args, **kwargs))

        call.__name__ = call.__qualname__ = name
        return call

    names = type(implementation)._interface_methods
    base: Any = interface
    view_class = type(
        f"Blocking{type(implementation).__name__}",
        (base,),
        {name: blocking(name) for name in names},
    )
    view: Interface = view_class()
    weakref.finalize(view, loop.close)
    return view

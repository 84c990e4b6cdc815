"""Authentication and authorization providers.

>>> from mqtt_common.src.auth import Action, AuthCredentials, AuthInterface
>>> class AllowAlice(AuthInterface):
...     def authenticate(self, credentials: AuthCredentials) -> bool:
...         return credentials.username == "alice" and credentials.password == b"s3cret"
...     def authorize(self, credentials: AuthCredentials, topic: str, action: Action) -> bool:
...         return action is not Action.PUBLISH or topic.startswith("alice/")
>>> auth = AllowAlice()
>>> auth.authenticate(AuthCredentials("c1", username="alice", password=b"s3cret"))
True
>>> AuthCredentials("c1", username="alice", password=b"s3cret")
AuthCredentials(client_id='c1', username='alice', password='<redacted>')
"""

from __future__ import annotations

import abc
import enum
import functools
import inspect
from collections.abc import Callable, Iterable
from typing import Any, Literal

from mqtt_common import _core
from mqtt_common._core import (
    AclFile,
    AuthCredentials,
    PasswordFile,
    certificate_username,
    hash_password,
)
from mqtt_common._rust_tables import require_rust_members
from mqtt_common.models.errors import ValidationError
from mqtt_common.src._asynchronous import AsynchronousInterface
from mqtt_common.src._synchronous import SynchronousInterface

__all__ = [
    "AclFile",
    "Action",
    "AsyncAuthChain",
    "AsyncAuthInterface",
    "AuthChain",
    "AuthCredentials",
    "AuthInterface",
    "FileAuth",
    "PasswordFile",
    "certificate_username",
    "hash_password",
]


class Action(enum.IntEnum):
    """What a client asks to do with a topic."""

    #: Publish to a topic name.
    PUBLISH = 1
    #: Subscribe to a topic filter.
    SUBSCRIBE = 2
    #: Receive a message published to a topic name.
    RECEIVE = 3


require_rust_members(Action, _core.ACTION_MEMBERS)


def _grants_only_true(method: Callable[..., Any]) -> Callable[..., bool]:
    """Wrap a decision so that only ``True`` grants: any other answer is a refusal."""

    @functools.wraps(method)
    def decide(*args: Any, **kwargs: Any) -> bool:
        return method(*args, **kwargs) is True

    decide._grants_only_true = True  # type: ignore[attr-defined]
    return decide


class AuthInterface(_core.AuthInterface, SynchronousInterface, abc.ABC, interface=True):
    """An authentication and authorization provider.

    Subclass it and implement both methods; they must be synchronous and return
    promptly (an ``async def`` is refused when the class is created). Only ``True``
    grants: any other answer, a truthy object included, is a refusal. Rust code calls
    them through the ``AuthInterface`` trait; an exception you raise reaches its caller
    unchanged.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in ("authenticate", "authorize"):
            method = cls.__dict__.get(name)
            if inspect.isfunction(method) and not getattr(method, "_grants_only_true", False):
                setattr(cls, name, _grants_only_true(method))

    @abc.abstractmethod
    def authenticate(self, credentials: AuthCredentials) -> bool:
        """Return whether the credentials are accepted."""

    @abc.abstractmethod
    def authorize(self, credentials: AuthCredentials, topic: str, action: Action) -> bool:
        """Return whether the client may perform ``action`` on ``topic``.

        ``topic`` is a topic filter for ``Action.SUBSCRIBE`` and a topic name otherwise.
        """

    def knows(self, credentials: AuthCredentials) -> bool:
        """Return whether this provider knows the client (by default: every client).

        In an ``AuthChain(rule="first")`` the first provider that knows a client is the
        one that decides for it.
        """
        return True


def _grants_only_true_async(method: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap an async decision so that only ``True`` grants."""

    @functools.wraps(method)
    async def decide(*args: Any, **kwargs: Any) -> bool:
        return (await method(*args, **kwargs)) is True

    decide._grants_only_true = True  # type: ignore[attr-defined]
    return decide


class AsyncAuthInterface(AsynchronousInterface, abc.ABC, interface=True):
    """An authentication and authorization provider for an asyncio broker.

    The same methods and rules as ``AuthInterface``, as ``async def``: for providers that
    wait on the network or hash passwords. Only ``True`` grants. Any ``AuthInterface``
    becomes one with ``AsyncAuthInterface.adapt(provider)``.
    """

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in ("authenticate", "authorize"):
            method = cls.__dict__.get(name)
            if inspect.iscoroutinefunction(method) and not getattr(
                method, "_grants_only_true", False
            ):
                setattr(cls, name, _grants_only_true_async(method))

    @abc.abstractmethod
    async def authenticate(self, credentials: AuthCredentials) -> bool:
        """Return whether the credentials are accepted."""

    @abc.abstractmethod
    async def authorize(self, credentials: AuthCredentials, topic: str, action: Action) -> bool:
        """Return whether the client may perform ``action`` on ``topic``.

        ``topic`` is a topic filter for ``Action.SUBSCRIBE`` and a topic name otherwise.
        """

    async def knows(self, credentials: AuthCredentials) -> bool:
        """Return whether this provider knows the client (by default: every client).

        In an ``AsyncAuthChain(rule="first")`` the first provider that knows a client is
        the one that decides for it.
        """
        return True


class FileAuth(_core.FileAuth, AuthInterface):
    """Mosquitto's password and ACL files as an auth provider, in Rust; reloadable.

    ``FileAuth(password_file=None, acl_file=None, *, allow_anonymous=False)`` decides as
    mosquitto 2.0 does with the same files: passwords as ``$6$``, ``$7$`` or
    ``$argon2id$`` hashes, checked in constant time (an unknown user costs as much as a
    wrong password); the ACL's ``topic``, ``user`` and ``pattern`` lines (see
    ``AclFile``). With ``use_certificate="common_name"`` or ``"subject"`` the user name
    is the client certificate's, as mosquitto's ``use_identity_as_username`` and
    ``use_subject_as_username`` make it (no certificate: refused; the password file is
    not consulted). ``reload()`` reads both files again; a bad file raises an error that
    names each bad line, and the old rules stay.
    """

    #: Checking a password takes a hash's time (argon2id: milliseconds): the async
    #: adapter runs calls in a worker thread.
    blocking = True
    #: Deciding an action is a lookup in memory (a microsecond): called inline, as it
    #: runs for every delivered message.
    _inline = frozenset({"authorize", "knows"})


class AuthChain(_core.AuthChain, AuthInterface):
    """Several providers as one, in Rust: ``AuthChain(providers, *, rule="first")``.

    With ``rule="first"`` the first provider that ``knows`` a client decides its login
    and its actions (a client none knows is refused); with ``rule="all"`` every provider
    must accept the login and allow each action. Any ``AuthInterface`` may take part.
    """

    #: A provider in the chain may hash a password: the async adapter uses a thread.
    blocking = True


class AsyncAuthChain(AsyncAuthInterface):
    """Several providers as one, for an asyncio broker; ``AuthChain``'s rules.

    ``AsyncAuthChain(providers, *, rule="first")``: each provider an
    ``AsyncAuthInterface`` or an ``AuthInterface`` (adapted). With ``rule="first"`` the
    first provider that ``knows`` a client decides its login and its actions (a client
    none knows is refused); with ``rule="all"`` every provider must accept the login and
    allow each action (an empty chain allows nothing).

    >>> import asyncio
    >>> chain = AsyncAuthChain([FileAuth(allow_anonymous=True)])
    >>> asyncio.run(chain.authenticate(AuthCredentials("c1")))
    True
    """

    def __init__(
        self,
        providers: Iterable[AsyncAuthInterface | AuthInterface],
        *,
        rule: Literal["first", "all"] = "first",
    ) -> None:
        if rule not in ("first", "all"):
            msg = f"rule must be 'first' or 'all', not {rule!r}"
            raise ValidationError(msg)
        chained: list[AsyncAuthInterface] = []
        for provider in providers:
            if isinstance(provider, AsyncAuthInterface):
                chained.append(provider)
            elif isinstance(provider, AuthInterface):
                chained.append(AsyncAuthInterface.adapt(provider))
            else:
                msg = (
                    "an AsyncAuthChain takes AuthInterface and AsyncAuthInterface "
                    f"providers, not {type(provider).__name__}"
                )
                raise TypeError(msg)
        self._providers = chained
        self._rule = rule

    @property
    def providers(self) -> list[AsyncAuthInterface]:
        """The providers, in the order they are asked (synchronous ones adapted)."""
        return list(self._providers)

    @property
    def rule(self) -> Literal["first", "all"]:
        """The rule: "first" or "all"."""
        return self._rule

    async def _deciding(self, credentials: AuthCredentials) -> AsyncAuthInterface | None:
        for provider in self._providers:
            if await provider.knows(credentials):
                return provider
        return None

    async def authenticate(self, credentials: AuthCredentials) -> bool:
        """Return whether the credentials are accepted, by the chain's rule."""
        if self._rule == "first":
            provider = await self._deciding(credentials)
            return provider is not None and await provider.authenticate(credentials)
        for provider in self._providers:
            if not await provider.authenticate(credentials):
                return False
        return bool(self._providers)

    async def authorize(self, credentials: AuthCredentials, topic: str, action: Action) -> bool:
        """Return whether the client may perform ``action`` on ``topic``, by the rule."""
        if self._rule == "first":
            provider = await self._deciding(credentials)
            return provider is not None and await provider.authorize(credentials, topic, action)
        for provider in self._providers:
            if not await provider.authorize(credentials, topic, action):
                return False
        return bool(self._providers)

    async def knows(self, credentials: AuthCredentials) -> bool:
        """Return whether any provider of the chain knows the client."""
        return await self._deciding(credentials) is not None

    def __repr__(self) -> str:
        return f"AsyncAuthChain({self._providers!r}, rule={self._rule!r})"

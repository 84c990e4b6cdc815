"""``AsyncAuthChain``: ``AuthChain``'s rules over asynchronous providers, and synchronous
ones adapted; each case also asked of the Rust ``AuthChain`` over the same providers,
which must answer the same."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from mqtt_common.models import ValidationError
from mqtt_common.src.auth import (
    Action,
    AsyncAuthChain,
    AsyncAuthInterface,
    AuthChain,
    AuthCredentials,
    FileAuth,
    hash_password,
)

from .test_certificates_and_chain import Static


class AsyncStatic(AsyncAuthInterface):
    """``Static``, asynchronous: as a provider that asks a service would be."""

    def __init__(self, user: str, accept: bool, allow: bool) -> None:
        self.user, self.accept, self.allow = user, accept, allow
        self.asked = 0

    async def authenticate(self, credentials: AuthCredentials) -> bool:
        self.asked += 1
        await asyncio.sleep(0)
        return self.accept

    async def authorize(self, credentials: AuthCredentials, topic: str, action: Action) -> bool:
        await asyncio.sleep(0)
        return self.allow

    async def knows(self, credentials: AuthCredentials) -> bool:
        return credentials.username == self.user


def test_the_first_provider_that_knows_the_client_decides(tmp_path: Path) -> None:
    passwd = tmp_path / "passwd"
    passwd.write_text(f"alice:{hash_password('s3cret')}\n")
    bob = AsyncStatic("bob", accept=True, allow=False)
    chain = AsyncAuthChain([bob, FileAuth(passwd)])
    rust = AuthChain([Static("bob", accept=True, allow=False), FileAuth(passwd)])
    alice = AuthCredentials("a", username="alice", password=b"s3cret")
    bobs = AuthCredentials("b", username="bob")
    carol = AuthCredentials("c", username="carol")

    async def ask() -> list[bool]:
        return [
            await chain.authenticate(alice),
            await chain.authenticate(alice.replace(password=b"x")),  # no fall-through
            await chain.authenticate(bobs),
            await chain.authorize(bobs, "t", Action.PUBLISH),
            await chain.authorize(alice, "t", Action.PUBLISH),
            await chain.authenticate(carol),
            await chain.knows(bobs),
            await chain.knows(carol),
        ]

    answers = asyncio.run(ask())
    assert answers == [True, False, True, False, True, False, True, False]
    assert answers == [
        rust.authenticate(alice),
        rust.authenticate(alice.replace(password=b"x")),
        rust.authenticate(bobs),
        rust.authorize(bobs, "t", Action.PUBLISH),
        rust.authorize(alice, "t", Action.PUBLISH),
        rust.authenticate(carol),
        rust.knows(bobs),
        rust.knows(carol),
    ]
    assert bob.asked == 1  # alice's logins never reached it: it does not know her
    assert chain.rule == "first"
    assert len(chain.providers) == 2
    assert isinstance(chain.providers[1], AsyncAuthInterface)


def test_every_provider_must_agree_with_rule_all() -> None:
    user = AuthCredentials("c", username="u")
    both = AsyncAuthChain(
        [AsyncStatic("u", accept=True, allow=True), Static("u", accept=True, allow=False)],
        rule="all",
    )

    async def ask() -> list[bool]:
        return [
            await both.authenticate(user),
            await both.authorize(user, "t", Action.RECEIVE),
            await AsyncAuthChain([], rule="all").authenticate(user),
            await AsyncAuthChain([], rule="all").authorize(user, "t", Action.RECEIVE),
        ]

    assert asyncio.run(ask()) == [True, False, False, False]
    assert AuthChain([], rule="all").authenticate(user) is False


def test_a_chain_refuses_what_is_not_a_provider_and_unknown_rules() -> None:
    with pytest.raises(TypeError, match="AuthInterface"):
        AsyncAuthChain([object()])  # type: ignore[list-item]
    with pytest.raises(ValidationError, match="rule"):
        AsyncAuthChain([], rule="any")  # type: ignore[arg-type]


def test_only_true_grants_in_an_async_provider() -> None:
    class Truthy(AsyncStatic):
        async def authenticate(self, credentials: AuthCredentials) -> bool:
            return "yes"  # type: ignore[return-value]

    chain = AsyncAuthChain([Truthy("u", accept=True, allow=True)])
    assert asyncio.run(chain.authenticate(AuthCredentials("c", username="u"))) is False

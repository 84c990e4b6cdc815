"""The auth contract kits, synchronous and asynchronous, against ``FileAuth`` on
mosquitto's password and ACL files."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from mqtt_common.src.auth import (
    Action,
    AsyncAuthInterface,
    AuthChain,
    AuthCredentials,
    AuthInterface,
    FileAuth,
    hash_password,
)
from mqtt_common.testing import AsyncAuthContract, AuthContract

ALICE = AuthCredentials("alice-phone", username="alice", password=b"s3cret")


class _Files:
    """Writes the files the provider reads under the test's tmp_path."""

    @pytest.fixture(autouse=True)
    def _files(self, tmp_path: Path) -> None:
        self._dir = tmp_path

    def _auth(self, passwords: str, acl: str) -> FileAuth:
        (self._dir / "passwd").write_text(passwords, encoding="utf-8")
        (self._dir / "acl").write_text(acl, encoding="utf-8")
        return FileAuth(self._dir / "passwd", self._dir / "acl")

    def make_auth(self) -> AuthInterface:
        return self._auth(f"alice:{hash_password('s3cret')}\n", "pattern readwrite users/%u/#\n")

    def make_unconfigured_auth(self) -> AuthInterface:
        return self._auth("", "")

    def accepted_credentials(self) -> AuthCredentials:
        return ALICE

    def rejected_credentials(self) -> AuthCredentials:
        return ALICE.replace(password=b"wrong")

    def allowed(self) -> tuple[AuthCredentials, str, Action]:
        return ALICE, "users/alice/inbox", Action.PUBLISH

    def denied(self) -> tuple[AuthCredentials, str, Action]:
        return ALICE, "users/bob/inbox", Action.PUBLISH


class TestFileAuth(_Files, AuthContract):
    pass


class TestAdaptedFileAuth(_Files, AsyncAuthContract):
    def make_async_auth(self) -> AsyncAuthInterface:
        return AsyncAuthInterface.adapt(self.make_auth())

    def make_unconfigured_async_auth(self) -> AsyncAuthInterface:
        return AsyncAuthInterface.adapt(self.make_unconfigured_auth())


class TestAuthChain(_Files, AuthContract):
    """The file provider first, then one that knows every other user and lets them
    do nothing (an empty ACL)."""

    def make_auth(self) -> AuthInterface:
        first = super().make_auth()
        (self._dir / "empty.acl").write_text("", encoding="utf-8")
        return AuthChain([first, FileAuth(acl_file=self._dir / "empty.acl")])

    def make_unconfigured_auth(self) -> AuthInterface:
        return AuthChain([super().make_unconfigured_auth()], rule="all")


def test_the_async_adapter_hashes_off_the_event_loop(tmp_path: Path) -> None:
    callers: set[int] = set()

    class Watched(FileAuth):
        def authenticate(self, credentials: AuthCredentials) -> bool:
            callers.add(threading.get_ident())
            return super().authenticate(credentials)

    (tmp_path / "passwd").write_text(f"alice:{hash_password('s3cret', 'argon2id')}\n")
    auth = AsyncAuthInterface.adapt(Watched(tmp_path / "passwd"))

    async def main() -> int:
        assert await auth.authenticate(ALICE) is True
        return threading.get_ident()

    loop_thread = asyncio.run(main())
    assert callers
    assert loop_thread not in callers


def test_the_async_adapter_decides_actions_inline(tmp_path: Path) -> None:
    """authorize runs for every delivered message: it needs no worker thread."""
    (tmp_path / "acl").write_text("user alice\ntopic read alice/#\n")
    auth = AsyncAuthInterface.adapt(FileAuth(acl_file=tmp_path / "acl"))

    class NoThreads(ThreadPoolExecutor):
        def submit(self, *args: object, **kwargs: object) -> Future[object]:  # type: ignore[override]
            raise AssertionError("authorize went to a worker thread")

    async def main() -> None:
        asyncio.get_running_loop().set_default_executor(NoThreads())
        assert await auth.authorize(ALICE, "alice/x", Action.RECEIVE) is True
        assert await auth.authorize(ALICE, "bob/x", Action.RECEIVE) is False

    asyncio.run(main())

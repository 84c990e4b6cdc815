"""Mosquitto's password file: files made by Debian's mosquitto_passwd verify, files made
by ``python -m mqtt_common.auth passwd`` are accepted by a live mosquitto, bad files are
refused line by line, and ``FileAuth`` reloads safely."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mqtt_common.models import AuthenticationError, ValidationError
from mqtt_common.src.auth import AuthCredentials, FileAuth, PasswordFile, hash_password

from .mosquitto import MOSQUITTO_PASSWD, MOSQUITTO_PUB, mosquitto


def passwd(*args: str | Path, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run our tool."""
    return subprocess.run(
        [sys.executable, "-m", "mqtt_common.auth", "passwd", *map(str, args)],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("kind", ["sha512", "sha512-pbkdf2"])
def test_files_made_by_mosquitto_passwd_verify(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "passwd"
    subprocess.run([MOSQUITTO_PASSWD, "-H", kind, "-c", "-b", path, "alice", "s3cret"], check=True)
    subprocess.run([MOSQUITTO_PASSWD, "-H", kind, "-b", path, "bob", "pa:ss wörd"], check=True)
    prefix = "$6$" if kind == "sha512" else "$7$"
    assert all(line.split(":", 1)[1].startswith(prefix) for line in path.read_text().split())
    users = PasswordFile.load(path)
    assert users.usernames == ["alice", "bob"]
    assert users.verify("alice", "s3cret")
    assert users.verify("bob", "pa:ss wörd".encode())
    assert not users.verify("alice", "s3cret ")
    assert not users.verify("alice", b"")
    assert not users.verify("bob", "s3cret")
    assert not users.verify("carol", "s3cret")


def mosquitto_accepts(port: int, user: str, password: str) -> bool:
    """Whether a live mosquitto accepts mosquitto_pub with this user name and password."""
    done = subprocess.run(
        [
            MOSQUITTO_PUB,
            "-h",
            "127.0.0.1",
            "-p",
            str(port),
            "-u",
            user,
            "-P",
            password,
            "-t",
            "t",
            "-m",
            "m",
        ],
        capture_output=True,
        timeout=30,
        check=False,
    )
    return done.returncode == 0


@pytest.mark.parametrize("kind", ["sha512-pbkdf2", "sha512"])
def test_a_live_mosquitto_accepts_the_files_our_tool_writes(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "passwd"
    assert passwd("-H", kind, "-c", "-b", path, "alice", "s3cret").returncode == 0
    assert passwd("-H", kind, "-I", "1000", "-b", path, "bob", "hunter2").returncode == 0
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    with mosquitto(tmp_path, "allow_anonymous false", f"password_file {path}") as port:

        def connects(user: str, password: str) -> bool:
            return mosquitto_accepts(port, user, password)

        assert connects("alice", "s3cret")
        assert connects("bob", "hunter2")
        assert not connects("alice", "hunter2")
        assert not connects("carol", "s3cret")


# (user name sent, password sent): who mosquitto and FileAuth must agree on.
LOGINS = [
    ("alice", "s3cret"),
    ("lead", "s3cret"),
    (" lead", "s3cret"),
    ("trail", "s3cret"),
    ("trail ", "s3cret"),
    ("tab", "s3cret"),
    ("spaced-hash", "s3cret"),
    ("lead", "wrong"),
    ("", "s3cret"),
    ("", "wrong"),
]


@pytest.mark.parametrize("allow_anonymous", [True, False], ids=["anonymous", "no-anonymous"])
def test_blank_and_empty_user_names_are_decided_as_mosquitto_decides(
    tmp_path: Path, allow_anonymous: bool
) -> None:
    path = tmp_path / "passwd"
    assert passwd("-c", "-b", path, "alice", "s3cret").returncode == 0
    hashed = path.read_text().split(":", 1)[1].strip()
    with path.open("a") as file:
        file.write(f" lead:{hashed}\ntrail :{hashed}\n\ttab:{hashed}\n")
        file.write(f"spaced-hash: {hashed} \n")
    setting = f"allow_anonymous {'true' if allow_anonymous else 'false'}"
    with mosquitto(tmp_path, setting, f"password_file {path}") as port:
        theirs = {login: mosquitto_accepts(port, *login) for login in LOGINS}
    auth = FileAuth(path, allow_anonymous=allow_anonymous)
    ours = {
        (user, password): auth.authenticate(
            AuthCredentials("c1", username=user, password=password.encode())
        )
        for user, password in LOGINS
    }
    assert ours == theirs
    # Both answers occur: the table tells the rules apart.
    assert set(theirs.values()) == {True, False}


def test_argon2id_hashes_verify_and_the_tool_writes_them(tmp_path: Path) -> None:
    path = tmp_path / "passwd"
    assert passwd("-H", "argon2id", "-c", "-b", path, "alice", "s3cret").returncode == 0
    assert path.read_text().startswith("alice:$argon2id$v=19$")
    users = PasswordFile.load(path)
    assert users.verify("alice", "s3cret")
    assert not users.verify("alice", "S3cret")


def test_the_tool_deletes_upgrades_and_keeps_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "passwd"
    path.write_text("# operators\n\ncarol:plain one\ndave:two\n", encoding="utf-8")
    assert passwd("-U", path).returncode == 0
    text = path.read_text()
    assert text.startswith("# operators\n\ncarol:$7$101$")
    assert PasswordFile.load(path).verify("carol", "plain one")
    assert passwd("-b", path, "erin", "three").returncode == 0
    assert passwd("-b", path, "carol", "changed").returncode == 0
    assert passwd("-D", path, "dave").returncode == 0
    users = PasswordFile.load(path)
    assert users.usernames == ["carol", "erin"]
    assert users.verify("carol", "changed")
    refused = passwd("-D", path, "nobody")
    assert refused.returncode == 1
    assert "Error: user 'nobody' not found" in refused.stderr
    assert "Error: passwords do not match" in passwd(path, "frank", stdin="a\nb\n").stderr
    assert passwd("-b", path, "x:y", "pw").returncode == 1
    assert passwd("-U", path).returncode == 1  # already hashed: nothing is guessed
    assert "does not exist" in passwd("-b", tmp_path / "missing", "u", "p").stderr


names = st.text(
    alphabet=st.characters(blacklist_characters=":\n\r\x00#", blacklist_categories=["Cs"]),
    min_size=1,
    max_size=20,
).filter(lambda name: name.strip() == name and name != "")
passwords = st.binary(max_size=40)


@settings(max_examples=25, deadline=None)
@given(st.dictionaries(names, passwords, min_size=1, max_size=5))
def test_a_random_password_file_round_trips(users: dict[str, bytes]) -> None:
    text = "".join(
        f"{name}:{hash_password(password, iterations=2)}\n" for name, password in users.items()
    )
    parsed = PasswordFile.parse(text)
    assert parsed.usernames == list(users)
    for name, password in users.items():
        assert parsed.verify(name, password)
        assert not parsed.verify(name, password + b"!")


garbage_line = st.text(
    alphabet=st.one_of(
        st.characters(blacklist_categories=["Cc", "Cs"]), st.sampled_from(":$#67 \t")
    ),
    max_size=30,
)


@settings(max_examples=200, deadline=None)
@given(st.lists(garbage_line, min_size=1, max_size=6))
def test_garbage_files_give_numbered_errors_and_no_user(lines: list[str]) -> None:
    text = "\n".join(lines)
    meaningful = [i + 1 for i, line in enumerate(lines) if line.strip() and line[0] != "#"]
    if not meaningful:
        assert len(PasswordFile.parse(text)) == 0
        return
    with pytest.raises(AuthenticationError) as raised:
        PasswordFile.parse(text)
    assert f"line {meaningful[0]}:" in str(raised.value)


def test_bad_lines_are_each_named(tmp_path: Path) -> None:
    good = hash_password("pw")
    path = tmp_path / "passwd"
    path.write_text(f"alice:{good}\nbob:plain\nbob\nalice:{good}\ncarol:$7$0$AAAA$AAAA\n")
    with pytest.raises(AuthenticationError) as raised:
        PasswordFile.load(path)
    message = str(raised.value)
    for expected in (
        'line 2: user "bob": not a hash',
        "line 3: expected username:hash",
        'line 4: user "alice" is named twice',
        'line 5: user "carol": the iteration count',
    ):
        assert expected in message
    with pytest.raises(ValidationError, match="kind"):
        hash_password("pw", "md5")  # type: ignore[arg-type]


def test_file_auth_decides_and_reloads_keeping_the_old_users_on_a_bad_file(
    tmp_path: Path,
) -> None:
    path = tmp_path / "passwd"
    path.write_text(f"alice:{hash_password('one')}\n")
    auth = FileAuth(path)
    alice = AuthCredentials("c", username="alice", password=b"one")
    assert auth.authenticate(alice) is True
    assert auth.authenticate(AuthCredentials("anonymous")) is False
    assert FileAuth(path, allow_anonymous=True).authenticate(AuthCredentials("a")) is True
    assert auth.authenticate(AuthCredentials("c", username="alice")) is False
    path.write_text("alice:one\n")  # a plain-text password: refused
    with pytest.raises(AuthenticationError, match="line 1"):
        auth.reload()
    assert auth.authenticate(alice) is True
    replacement = tmp_path / "passwd.new"
    replacement.write_text(f"alice:{hash_password('two')}\n")
    os.replace(replacement, path)
    auth.reload()
    assert auth.authenticate(alice) is False
    assert auth.authenticate(alice.replace(password=b"two")) is True
    assert repr(auth) == f'<FileAuth password_file="{path}" acl_file=None allow_anonymous=False>'

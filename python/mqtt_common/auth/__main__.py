"""``python -m mqtt_common.auth passwd``: mosquitto_passwd's options, mosquitto's files.

    python -m mqtt_common.auth passwd [-H sha512-pbkdf2|argon2id|sha512] [-I iterations]
                                      [-c | -D] passwordfile username
    python -m mqtt_common.auth passwd [-H ...] [-I iterations] [-c] -b passwordfile
                                      username password
    python -m mqtt_common.auth passwd -U passwordfile

``-c`` creates (or overwrites) the file, ``-b`` takes the password from the command
line, ``-D`` deletes the user, ``-U`` hashes every plain-text password of a file, ``-H``
picks the hash (default ``sha512-pbkdf2``, which mosquitto 2.0 reads; ``argon2id`` needs
mosquitto 2.1). Without ``-b`` the password is asked for twice. Comments, blank lines
and the other users are kept as they were; the file is replaced atomically, readable by
its owner only.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import tempfile
from pathlib import Path
from typing import Literal, cast

from mqtt_common.models import MQTTError
from mqtt_common.src.auth import PasswordFile, hash_password


class PasswdError(Exception):
    """A refusal the tool explains in one line."""


def parser() -> argparse.ArgumentParser:
    """Return the parser of the ``passwd`` command's options."""
    command = argparse.ArgumentParser(
        prog="python -m mqtt_common.auth passwd",
        description="Manage a mosquitto password file (as mosquitto_passwd does).",
    )
    command.add_argument(
        "-H",
        dest="kind",
        choices=["sha512-pbkdf2", "argon2id", "sha512"],
        default="sha512-pbkdf2",
        help="the hash (default: sha512-pbkdf2)",
    )
    command.add_argument(
        "-I", dest="iterations", type=int, default=101, help="sha512-pbkdf2 iterations"
    )
    mode = command.add_mutually_exclusive_group()
    mode.add_argument("-c", dest="create", action="store_true", help="create a new file")
    mode.add_argument("-D", dest="delete", action="store_true", help="delete the user")
    mode.add_argument(
        "-U", dest="upgrade", action="store_true", help="hash a plain-text password file"
    )
    command.add_argument(
        "-b", dest="batch", action="store_true", help="take the password from the command line"
    )
    command.add_argument("passwordfile", type=Path)
    command.add_argument("username", nargs="?")
    command.add_argument("password", nargs="?")
    return command


def read_lines(path: Path) -> list[str]:
    """Return the file's lines, without their line ends."""
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise PasswdError(f"{path} does not exist (-c creates it)") from None
    except (OSError, UnicodeDecodeError) as err:
        raise PasswdError(f"cannot read {path}: {err}") from None


def write_lines(path: Path, lines: list[str]) -> None:
    """Replace the file at once, readable by its owner only."""
    text = "".join(f"{line}\n" for line in lines)
    PasswordFile.parse(text)  # never write a file that would be refused
    directory = path.resolve().parent
    fd, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.chmod(temporary, 0o600)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise


def user_of(line: str) -> str | None:
    """Return the user a line is about, or None for a comment or a blank line."""
    if not line.strip() or line.startswith("#"):
        return None
    return line.split(":", 1)[0]


def ask_password() -> str:
    """Ask for the password twice, as mosquitto_passwd does."""
    first = getpass.getpass("Password: ")
    if getpass.getpass("Reenter password: ") != first:
        raise PasswdError("passwords do not match")
    return first


HashKind = Literal["sha512-pbkdf2", "argon2id", "sha512"]


def upgrade(path: Path, kind: HashKind, iterations: int) -> None:
    """Hash each plain-text password of the file (``-U``)."""
    lines = read_lines(path)
    for index, line in enumerate(lines):
        user = user_of(line)
        if user is None:
            continue
        _, _, secret = line.partition(":")
        if secret.startswith("$"):
            raise PasswdError(f"line {index + 1}: {user!r} already has a hash")
        lines[index] = f"{user}:{hash_password(secret, kind, iterations=iterations)}"
    write_lines(path, lines)


def passwd(args: argparse.Namespace) -> None:
    """Carry out one command line."""
    path: Path = args.passwordfile
    if args.upgrade:
        if args.username is not None:
            raise PasswdError("-U takes only the password file")
        upgrade(path, cast(HashKind, args.kind), args.iterations)
        return
    username = args.username
    if username is None:
        raise PasswdError("a user name is needed")
    if not username or ":" in username:
        raise PasswdError("the user name must not be empty nor contain ':'")
    if args.password is not None and not args.batch:
        raise PasswdError("a password on the command line needs -b")
    lines = [] if args.create else read_lines(path)
    others = [line for line in lines if user_of(line) != username]
    if args.delete:
        if len(others) == len(lines):
            raise PasswdError(f"user {username!r} not found")
        write_lines(path, others)
        return
    if args.batch:
        if args.password is None:
            raise PasswdError("-b needs the password on the command line")
        password = args.password
    else:
        password = ask_password()
    kind = cast(HashKind, args.kind)
    entry = f"{username}:{hash_password(password, kind, iterations=args.iterations)}"
    position = next((i for i, line in enumerate(lines) if user_of(line) == username), None)
    if position is None:
        lines.append(entry)
    else:
        lines[position] = entry
    write_lines(path, lines)


def main(argv: list[str] | None = None) -> int:
    """Run ``python -m mqtt_common.auth``; return the exit status."""
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] != "passwd":
        print("usage: python -m mqtt_common.auth passwd [options] ...", file=sys.stderr)
        return 2
    args = parser().parse_args(argv[1:])
    try:
        passwd(args)
    except (PasswdError, MQTTError, OSError) as err:
        print(f"Error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

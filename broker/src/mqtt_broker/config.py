"""``--config FILE``: the command line's options in a TOML file, and JSON log lines.

Every long option is a key: its name without the leading dashes, inner dashes as
underscores (``--max-keep-alive 60`` is ``max_keep_alive = 60``; a flag is ``true``,
``allow_anonymous = false`` is ``--no-allow-anonymous``; an option given several times
takes a list, ``plugin_opt = ["url=https://auth.example", "timeout=2"]``). The file's options come
first and the command line's after them, so the command line overrides the file. A
key the broker does not know, or a value its option refuses, is an error naming the
file and the key.
"""

from __future__ import annotations

import argparse
import json
import logging
import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


class ConfigError(Exception):
    """A config file the broker cannot use, in one line naming the file and the key."""


def option_tokens(parser: argparse.ArgumentParser, path: Path) -> list[str]:
    """Read ``path`` and return its options as command-line tokens, checked.

    Raises ConfigError for a file that cannot be read or parsed, an unknown key, or a
    value its option refuses.
    """
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ConfigError(f"cannot read the config file {path}: {err.strerror}") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as err:
        raise ConfigError(f"{path} is not a TOML file: {err}") from None
    options = {
        option: action
        for action in parser._actions  # argparse keeps no public list of its options
        for option in action.option_strings
        if option.startswith("--")
    }
    tokens: list[str] = []
    for key, value in table.items():
        option = "--" + key.replace("_", "-")
        action = options.get(option)
        if action is None or key in ("config", "help") or "-" in key:
            raise ConfigError(f"{path}: unknown key {key!r} (keys are the long options)")
        tokens += _tokens(path, key, option, action, value)
    return tokens


def _tokens(path: Path, key: str, option: str, action: argparse.Action, value: Any) -> list[str]:
    """One key's value as command-line tokens, checked by its option's type."""
    if action.nargs == 0:  # a flag
        if not isinstance(value, bool):
            raise ConfigError(f"{path}: {key} is a flag: true or false, not {value!r}")
        if isinstance(action, argparse.BooleanOptionalAction):
            return [option if value else "--no-" + option[2:]]
        return [option] if value else []
    if isinstance(action, argparse._AppendAction) and isinstance(value, list):
        # An option given several times (argparse's "append"): one token pair each.
        return [token for each in value for token in _tokens(path, key, option, action, each)]
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ConfigError(f"{path}: {key} takes a single value, not {value!r}")
    text = str(value)
    check = action.type
    try:
        if callable(check):
            check(text)
    except (argparse.ArgumentTypeError, ValueError) as err:
        raise ConfigError(f"{path}: {key}: {err}") from None
    if action.choices is not None and text not in action.choices:
        choices = ", ".join(map(str, action.choices))
        raise ConfigError(f"{path}: {key}: {text!r} is not one of {choices}")
    return [option, text]


def without_overridden(
    parser: argparse.ArgumentParser, from_file: list[str], given: list[str]
) -> list[str]:
    """Drop the file's options that a command-line option of their group overrides.

    In a group of options that exclude each other (``--data-dir``, ``--redis-url``),
    one given on the command line replaces the file's, rather than clash with it.
    """
    given_options = {token.split("=", 1)[0] for token in given if token.startswith("--")}
    dropped: set[str] = set()
    for group in parser._mutually_exclusive_groups:  # no public accessor either
        members = {o for action in group._group_actions for o in action.option_strings}
        negated = {"--no-" + o[2:] for o in members}
        if given_options & (members | negated):
            dropped |= members | negated
    kept: list[str] = []
    tokens = iter(from_file)
    for token in tokens:
        if token in dropped:
            action_takes_value = not token.startswith("--no-") and _takes_value(parser, token)
            if action_takes_value:
                next(tokens, None)
            continue
        kept.append(token)
    return kept


def _takes_value(parser: argparse.ArgumentParser, option: str) -> bool:
    return any(option in a.option_strings and a.nargs != 0 for a in parser._actions)


class JsonFormatter(logging.Formatter):
    """Log records as one JSON object per line, for log shippers (``--log-format json``).

    Keys: ``time`` (ISO 8601, UTC), ``level``, ``logger``, ``message``, and
    ``exception`` with the traceback when there is one.
    """

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as a JSON line."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)

"""Password verification and ACL decisions, against Python doing the same.

Run with ``./dev.sh bench`` (or ``python benches/python/bench_auth.py``). Verifying a
password of each hash type mosquitto writes, against ``hashlib`` computing the same hash
and ``hmac.compare_digest``; then ``AclFile.allows`` with 10,000 rules, against the same
decision written in Python over ``topic_matches``. Medians; nothing is asserted.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import statistics
import time
from collections.abc import Callable

from mqtt_common.src.auth import AclFile, Action, PasswordFile, hash_password
from mqtt_common.utils.topic import topic_matches

ROUNDS = 7


def per_call_us(func: Callable[[], object], calls: int) -> float:
    """Median over rounds of the mean microseconds per call."""
    samples = []
    for _ in range(ROUNDS):
        start = time.perf_counter_ns()
        for _ in range(calls):
            func()
        samples.append((time.perf_counter_ns() - start) / calls / 1000)
    return statistics.median(samples)


def hashlib_verifier(stored: str) -> Callable[[bytes], bool]:
    """Return the same check in Python: decode the line's hash, recompute, compare."""
    parts = stored.split("$")
    if parts[1] == "6":
        salt, expected = base64.b64decode(parts[2]), base64.b64decode(parts[3])
        return lambda pw: hmac.compare_digest(hashlib.sha512(pw + salt).digest(), expected)
    iterations = int(parts[2])
    salt, expected = base64.b64decode(parts[3]), base64.b64decode(parts[4])
    return lambda pw: hmac.compare_digest(
        hashlib.pbkdf2_hmac("sha512", pw, salt, iterations, 64), expected
    )


def bench_passwords() -> None:
    header = f"{'verify a password':<34} {'ours us':>9} {'hashlib us':>11} {'ratio':>7}"
    print(header)
    print("-" * len(header))
    for label, kind, iterations in (
        ("$6$ sha512", "sha512", 1),
        ("$7$ sha512-pbkdf2, 101 iterations", "sha512-pbkdf2", 101),
        ("$7$ sha512-pbkdf2, 1000 iterations", "sha512-pbkdf2", 1000),
        ("$argon2id$ (m=19456, t=2, p=1)", "argon2id", 1),
    ):
        stored = hash_password(b"s3cret", kind, iterations=iterations)  # type: ignore[arg-type]
        users = PasswordFile.parse(f"alice:{stored}\n")
        calls = 20 if kind == "argon2id" else 2000
        ours = per_call_us(functools.partial(users.verify, "alice", b"s3cret"), calls)
        if kind == "argon2id":
            print(f"{label:<34} {ours:>9.1f} {'-':>11} {'-':>7}")
            continue
        theirs_check = hashlib_verifier(stored)
        assert theirs_check(b"s3cret")
        theirs = per_call_us(functools.partial(theirs_check, b"s3cret"), calls)
        print(f"{label:<34} {ours:>9.1f} {theirs:>11.1f} {theirs / ours:>6.2f}x")


def python_allows(
    users: dict[str, list[tuple[int, str]]],
    patterns: list[tuple[int, str]],
    client_id: str,
    username: str,
    topic: str,
) -> bool:
    """Decide a read in Python, in mosquitto's order: the anchor."""
    own = users.get(username, [])
    if any(access == 0 and topic_matches(f, topic) for access, f in own):
        return False
    if any(access & 1 and topic_matches(f, topic) for access, f in own):
        return True
    expanded = [(a, f.replace("%c", client_id).replace("%u", username)) for a, f in patterns]
    if any(access == 0 and topic_matches(f, topic) for access, f in expanded):
        return False
    return any(access & 1 and topic_matches(f, topic) for access, f in expanded)


def bench_acl() -> None:
    lines, users = [], {}
    for n in range(1000):  # 1,000 users with 10 rules each
        lines.append(f"user user{n}")
        rules = [(3, f"site/{n}/device/{d}/#") for d in range(9)] + [(0, f"site/{n}/secret")]
        users[f"user{n}"] = rules
        lines += [f"topic {'deny' if a == 0 else 'readwrite'} {f}" for a, f in rules]
    by_user = AclFile.parse("\n".join(lines) + "\n")
    patterns = [(1, f"tenant{n}/%u/#") for n in range(10_000)]
    by_pattern = AclFile.parse("".join(f"pattern read {f}\n" for _, f in patterns))
    # Patterns that begin with the user name: no first level to index them by.
    templated = [(1, f"%u/device{n}/#") for n in range(10_000)]
    by_template = AclFile.parse("".join(f"pattern read {f}\n" for _, f in templated))
    header = f"{'ACL decision, 10,000 rules':<44} {'ours us':>8} {'Python us':>10} {'ratio':>7}"
    print()
    print(header)
    print("-" * len(header))
    cases = [
        ("1,000 users x 10 rules: allowed", by_user, users, [], "user500", "site/500/device/8/t"),
        ("1,000 users x 10 rules: denied", by_user, users, [], "user500", "site/501/device/1/t"),
        ("10,000 patterns: the last one matches", by_pattern, {}, patterns, "u", "tenant9999/u/x"),
        ("10,000 patterns: none matches", by_pattern, {}, patterns, "u", "other/u/x"),
        ("10,000 patterns like %u/deviceN/#", by_template, {}, templated, "u", "u/device9999/x"),
    ]
    for label, acl, own, pats, user, topic in cases:
        expected = acl.allows("c1", user, topic, Action.RECEIVE)
        assert python_allows(own, pats, "c1", user, topic) == expected
        calls = 2000 if not pats else 20
        ours = per_call_us(functools.partial(acl.allows, "c1", user, topic, Action.RECEIVE), calls)
        anchor = functools.partial(python_allows, own, pats, "c1", user, topic)
        theirs = per_call_us(anchor, calls)
        print(f"{label:<44} {ours:>8.2f} {theirs:>10.2f} {theirs / ours:>6.1f}x")


def main() -> None:
    """Print the tables."""
    bench_passwords()
    bench_acl()


if __name__ == "__main__":
    main()

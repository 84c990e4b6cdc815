"""Check that Cargo.toml's rust-version is honest about the dependencies.

Our own code is checked by clippy's `incompatible_msrv` lint (std APIs newer than
rust-version) and by the language features it uses; this checks that no dependency in
the tree, with every feature on, states a newer rust-version than we do.
"""

from __future__ import annotations

import json
import subprocess
import sys


def version(text: str) -> tuple[int, ...]:
    """Parse "1.88" or "1.88.0" into a comparable tuple (the two are equal)."""
    parts = [int(part) for part in text.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


def main() -> int:
    """Print the dependencies that need more than we state; exit 1 if there are any."""
    metadata = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--all-features"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    in_tree = {node["id"] for node in metadata["resolve"]["nodes"]}
    ours = next(p for p in metadata["packages"] if p["name"] == "mqtt-common")
    stated = version(ours["rust_version"])
    newer = [
        f"{p['name']} {p['version']} needs Rust {p['rust_version']}"
        for p in metadata["packages"]
        if p["id"] in in_tree and p["rust_version"] and version(p["rust_version"]) > stated
    ]
    print(f"rust-version {ours['rust_version']}; dependencies needing more: {len(newer)}")
    for line in newer:
        print(f"  {line}")
    return 1 if newer else 0


if __name__ == "__main__":
    sys.exit(main())

"""The reference broker, from a clone: ``python examples/broker/ --host H --port P ...``.

The broker is the ``mqtt_broker`` package in ``broker/`` (its own distribution, with the
``mqtt-broker`` command); this runs it from the source tree when it is not installed.
"""

import sys
from pathlib import Path

try:
    import mqtt_broker  # noqa: F401  (installed: use it)
except ImportError:
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "broker" / "src"))

from mqtt_broker.__main__ import main

if __name__ == "__main__":
    sys.exit(main(prog="python examples/broker/"))

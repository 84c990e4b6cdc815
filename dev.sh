#!/usr/bin/env bash
# The project's one entry point: sets up what it needs (a .venv with pinned tools, the
# wheel built from this tree) and runs a job.
#
#   ./dev.sh example   the main job: start the reference broker and drive it with real
#                      MQTT clients (paho-mqtt 3.1.1 and 5.0), printing what they see
#   ./dev.sh broker    serve with the reference broker until interrupted (options are
#                      passed on: ./dev.sh broker --port 1883 --max-keep-alive 60)
#   ./dev.sh tokio-broker  serve with the tokio broker (tokio-broker/) until interrupted,
#                      the same way: ./dev.sh tokio-broker --port 1883 --data-dir data
#   ./dev.sh tour      the tours of the public API (Rust, then Python over the wheel)
#   ./dev.sh chaos     the full robustness run of the reference broker: 200 careless and
#                      hostile clients for 30 s (the test command runs a 5 s version)
#   ./dev.sh crash     the full crash test of the SQLite stores: 100 cycles of kill -9
#                      under load, each checked on reopen (the test command runs 5)
#   ./dev.sh crash-broker  the full crash test of both brokers: 100 cycles of kill -9
#                      each under QoS 1 load with persistent subscribers, then 20 of
#                      each on Redis (redis-server killed in the middle);
#                      nothing acknowledged may be lost (the test command runs 4 of each)
#   ./dev.sh test      every check: fmt, clippy, cargo test, docs, wheel, pytest, ruff,
#                      mypy --strict, stubtest; fails on the first failure
#   ./dev.sh bench     the benchmarks, Rust (criterion) and Python, each against its
#                      anchors or targets (they report, they never fail on timings)
#   ./dev.sh bench-cluster  broker nodes on one Redis: throughput and latency across
#                      nodes against one node, and 2 processes sharing a port
#                      (--reuse-port) against 1 (options: --broker tokio|python,
#                      --seconds S)
#   ./dev.sh docs      the Rust API docs as docs.rs shows them, each feature-gated item
#                      labelled with its cargo feature (needs the nightly toolchain:
#                      rustup toolchain install nightly); prints where they are
#   ./dev.sh fmt       format everything (cargo fmt, ruff format, ruff's safe fixes)
#
# Needs only Rust (cargo) and Python 3.11+ with pip. PYTHON picks the interpreter.
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=.venv
VPY=$VENV/bin/python

step() { printf '\n==> %s\n' "$*"; }

setup_venv() {
    if [ ! -x "$VPY" ]; then
        step "create $VENV"
        "$PYTHON" -m venv "$VENV"
    fi
    local stamp=$VENV/.requirements-dev.sha
    local want
    want=$(sha256sum requirements-dev.txt | cut -d' ' -f1)
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        step "install dev requirements into $VENV"
        "$VPY" -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
        echo "$want" >"$stamp"
    fi
}

# Builds the release wheel (maturin gets its own target dir, so it does not fight cargo
# over pyo3's build flags) and installs it into the venv.
install_wheel() {
    setup_venv
    step "build and install the wheel"
    rm -rf target/wheels
    "$VENV/bin/maturin" build --release --target-dir target/maturin -o target/wheels \
        --interpreter "$VPY"
    "$VPY" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps \
        target/wheels/mqtt_common-*.whl
    install_broker
}

# The reference broker's own distribution (broker/), installed from the source tree
# (editable: later changes need no reinstall), with its `mqtt-broker` command.
install_broker() {
    local stamp=$VENV/.broker-installed
    if [ ! -f "$stamp" ] || [ broker/pyproject.toml -nt "$stamp" ]; then
        step "install the reference broker (broker/, editable: mqtt-broker)"
        "$VPY" -m pip install --quiet --disable-pip-version-check --no-deps -e broker
        touch "$stamp"
    fi
}

run_example() {
    install_wheel
    step "the reference broker, driven by paho-mqtt clients (examples/broker/demo.py)"
    "$VPY" examples/broker/demo.py
}

run_broker() {
    install_wheel
    step "the reference broker (Ctrl-C stops it)"
    exec "$VPY" examples/broker/ "$@"
}

run_chaos() {
    install_wheel
    step "the reference broker under 200 careless and hostile clients for 30 s"
    "$VPY" tests/reference_broker/chaos.py --clients 200 --seconds 30
}

run_crash() {
    install_wheel
    step "the SQLite stores killed with SIGKILL under load, 100 times, checked on reopen"
    "$VPY" tests/persistence/crash.py --cycles 100
}

run_crash_broker() {
    install_wheel
    build_tokio_broker
    step "the reference broker killed with SIGKILL under QoS 1 load, 100 times"
    "$VPY" tests/persistence/broker_crash.py --cycles 100 --broker python
    step "the tokio broker killed with SIGKILL under QoS 1 load, 100 times"
    "$VPY" tests/persistence/broker_crash.py --cycles 100 --broker tokio
    install_test_programs
    step "the reference broker on Redis killed with SIGKILL 20 times, and Redis once"
    "$VPY" tests/persistence/broker_crash.py --cycles 20 --broker python --store redis
    step "the tokio broker on Redis killed with SIGKILL 20 times, and Redis once"
    "$VPY" tests/persistence/broker_crash.py --cycles 20 --broker tokio --store redis
}

# The tokio broker (tokio-broker/), in release mode: the tests run it as a program.
build_tokio_broker() {
    step "build the tokio broker (cargo build --release -p mqtt-tokio-broker)"
    cargo build --quiet --release -p mqtt-tokio-broker
}

run_tokio_broker() {
    build_tokio_broker
    exec target/release/mqtt-tokio-broker "$@"
}

run_tour() {
    step "Rust tour: cargo run --example tour"
    cargo run --quiet --example tour
    install_wheel
    step "Python tour: examples/tour.py"
    "$VPY" examples/tour.py
}

# Programs the interop tests run. They are installed, never skipped: a missing program
# fails the run.
install_test_programs() {
    if ! command -v mosquitto_pub >/dev/null || ! command -v mosquitto_sub >/dev/null \
        || ! command -v mosquitto >/dev/null || ! command -v mosquitto_passwd >/dev/null \
        || ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null \
        || ! command -v chromium >/dev/null; then
        step "install mosquitto, mosquitto-clients, redis-server and chromium (interop, auth-file, Redis and status-page tests)"
        local packages="mosquitto mosquitto-clients redis-server chromium"
        if [ "$(id -u)" -eq 0 ]; then
            apt-get update -qq && apt-get install -y -qq $packages
        else
            sudo apt-get update -qq && sudo apt-get install -y -qq $packages
        fi
    fi
}

run_tests() {
    install_test_programs
    step "cargo fmt --check"
    cargo fmt --all -- --check
    step "cargo clippy (no features)"
    cargo clippy --all-targets -- -D warnings
    step "cargo clippy --features python,sqlite,auth-files,blocking,testing,redis"
    cargo clippy --all-targets --features python,sqlite,auth-files,blocking,testing,redis -- -D warnings
    step "cargo clippy --features sqlite,auth-files"
    cargo clippy --all-targets --features sqlite,auth-files -- -D warnings
    step "cargo clippy --features redis"
    cargo clippy --all-targets --features redis -- -D warnings
    step "cargo clippy, the tokio broker"
    cargo clippy -p mqtt-tokio-broker --all-targets -- -D warnings
    step "cargo clippy, the benchmark crate"
    cargo clippy -p mqtt-common-benches --all-targets -- -D warnings
    step "cargo test (no features)"
    cargo test
    step "cargo test --features python,sqlite,auth-files,blocking,testing,redis (Redis tests start redis-server)"
    cargo test --features python,sqlite,auth-files,blocking,testing,redis
    step "the Rust tour runs (cargo run --example tour)"
    cargo run --quiet --example tour >/dev/null
    step "cargo doc (warnings are errors)"
    RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --quiet --features sqlite,auth-files,blocking,testing,redis
    step "rust-version covers every dependency"
    "$PYTHON" tools/check_rust_version.py
    step "no pyo3 in the dependency tree without the python feature"
    if cargo tree --edges normal | grep -q pyo3; then
        echo "pyo3 leaked into the default dependency tree" >&2
        exit 1
    fi
    install_wheel
    build_tokio_broker
    # Run from outside the source tree so that only the installed wheel is importable.
    step "pytest (tests and doctests, over the installed wheel)"
    "$VPY" -m pytest -q tests
    "$VPY" -m pytest -q -p no:cacheprovider --doctest-modules --pyargs mqtt_common mqtt_broker \
        --rootdir "$PWD/target"
    step "ruff check and ruff format --check"
    "$VENV/bin/ruff" check python broker tests examples benches tools
    "$VENV/bin/ruff" format --check python broker tests examples benches tools
    step "mypy --strict"
    "$VENV/bin/mypy"
    step "stubtest mqtt_common._core"
    "$VPY" -m mypy.stubtest mqtt_common._core --allowlist .mypy-stubtest-allowlist
    step "all checks passed"
}

run_bench() {
    step "Rust benchmarks (criterion): SubscriptionIndex match, insert, remove, memory"
    cargo bench -p mqtt-common-benches --bench topic_index
    step "Rust benchmarks (criterion): PUBLISH decode and encode against rumqttc"
    cargo bench -p mqtt-common-benches --bench codec
    install_wheel
    step "Rust benchmark summary (medians against the targets)"
    "$VPY" benches/python/summarize_criterion.py
    step "Python: Message construction and topic_matches against the anchors"
    "$VPY" benches/python/bench_foundation.py
    step "Python: SubscriptionIndex.match against paho's MQTTMatcher and a linear scan"
    "$VPY" benches/python/bench_topic_index.py
    step "Python: MemoryStorage against a pure-Python storage on dicts and MQTTMatcher"
    "$VPY" benches/python/bench_storage.py
    step "Python: codec (256 B QoS 1 PUBLISH) against mqtt5 and paho-mqtt"
    "$VPY" benches/python/bench_codec.py
    step "Python: SqliteStorage against sqlite3 with a commit per call, and MemoryStorage"
    "$VPY" benches/python/bench_sqlite.py
    step "Python: password verification against hashlib, ACL decisions at 10,000 rules"
    "$VPY" benches/python/bench_auth.py
    step "Python: the server protocol engine against the bare codec by hand"
    "$VPY" benches/python/bench_protocol.py
    install_broker_programs
    install_test_programs
    step "Python: the Redis stores against redis-py's asyncio client"
    "$VPY" benches/python/bench_redis.py
    build_tokio_broker
    if [ ! -x target/rumqttd/bin/rumqttd ]; then
        step "install rumqttd 0.20 into target/rumqttd (the broker benchmark's Rust anchor)"
        cargo install --quiet rumqttd --version 0.20.0 --root target/rumqttd
    fi
    step "our brokers against mosquitto, rumqttd and amqtt (benches/broker/bench_brokers.py)"
    cargo build --quiet --release -p mqtt-common-benches --bin mqtt_load
    "$VPY" benches/broker/bench_brokers.py --baseline tokio \
        --brokers tokio,tokio-2cores,tokio-durable,tokio-redis,ours,ours-durable,ours-redis,mosquitto,mosquitto-persist,rumqttd,amqtt
}

run_bench_cluster() {
    install_wheel
    install_test_programs
    step "broker nodes on Redis: across nodes, and processes sharing a port"
    cargo build --quiet --release -p mqtt-common-benches --bin mqtt_load
    cargo build --quiet --release -p mqtt-tokio-broker
    "$VPY" benches/broker/bench_cluster.py "$@"
}

# The brokers the benchmark compares with: Debian's mosquitto (amqtt comes from PyPI
# with the dev requirements).
install_broker_programs() {
    if ! command -v mosquitto >/dev/null; then
        step "install mosquitto (broker benchmark)"
        if [ "$(id -u)" -eq 0 ]; then
            apt-get update -qq && apt-get install -y -qq mosquitto
        else
            sudo apt-get update -qq && sudo apt-get install -y -qq mosquitto
        fi
    fi
}

run_fmt() {
    setup_venv
    step "cargo fmt"
    cargo fmt --all
    step "ruff format and ruff's safe fixes"
    "$VENV/bin/ruff" check --fix --quiet python broker tests examples benches tools || true
    "$VENV/bin/ruff" format python broker tests examples benches tools
}

# The docs as docs.rs builds them (Cargo.toml's [package.metadata.docs.rs]): nightly
# rustdoc with --cfg docsrs labels what each cargo feature brings.
run_docs() {
    if ! rustup run nightly rustdoc --version >/dev/null 2>&1; then
        echo "./dev.sh docs needs the nightly toolchain (feature labels are nightly-only):" >&2
        echo "    rustup toolchain install nightly --profile minimal" >&2
        exit 1
    fi
    step "cargo +nightly doc with docs.rs's settings (feature labels)"
    RUSTDOCFLAGS="--cfg docsrs -D warnings" cargo +nightly doc --no-deps \
        --features sqlite,auth-files,blocking,testing,redis --target-dir target/docsrs
    local labels
    labels=$(grep -rl 'Available on <strong>crate feature' target/docsrs/doc/mqtt_common | wc -l)
    echo "$labels pages carry feature labels: target/docsrs/doc/mqtt_common/index.html"
}

case "${1:-}" in
    example) run_example ;;
    broker) shift; run_broker "$@" ;;
    tokio-broker) shift; run_tokio_broker "$@" ;;
    tour) run_tour ;;
    chaos) run_chaos ;;
    crash) run_crash ;;
    crash-broker) run_crash_broker ;;
    test) run_tests ;;
    docs) run_docs ;;
    bench) run_bench ;;
    bench-cluster) shift; run_bench_cluster "$@" ;;
    fmt) run_fmt ;;
    *)
        echo "usage: ./dev.sh example|broker [options]|tokio-broker [options]|tour|chaos|crash|crash-broker|test|bench|bench-cluster|docs|fmt" >&2
        exit 2
        ;;
esac

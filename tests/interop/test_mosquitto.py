"""Debian's mosquitto_pub and mosquitto_sub (3.1.1 and 5.0) against the capture server."""

import shutil
import subprocess

import pytest

from mqtt_common.models.constants import QualityOfService
from mqtt_common.models.packets import Connect, Disconnect, Publish, Pubrel

from .conftest import GREETING, CaptureBroker

# The test command installs mosquitto-clients; a missing program is a failure, not a skip.
PUB = shutil.which("mosquitto_pub") or "mosquitto_pub"
SUB = shutil.which("mosquitto_sub") or "mosquitto_sub"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=20, check=False)


@pytest.mark.parametrize("version", ["311", "5"])
@pytest.mark.parametrize("qos", [0, 1, 2])
def test_mosquitto_pub(broker: CaptureBroker, version: str, qos: int) -> None:
    args = [PUB, "-h", "127.0.0.1", "-p", str(broker.port), "-V", version, "-i", "mosq-pub"]
    args += ["-t", "sensors/kitchen", "-m", "21.5", "-q", str(qos), "-r"]
    args += ["--will-topic", "lwt/mosq", "--will-payload", "bye", "--will-qos", "1"]
    args += ["-u", "bob", "-P", "pw"]
    if version == "5":
        args += ["-D", "publish", "user-property", "k", "v"]
        args += ["-D", "connect", "session-expiry-interval", "60"]
    result = run(*args)
    assert result.returncode == 0, result.stderr
    broker.wait_for(lambda: len(broker.packets(Disconnect)) == 1)
    [connect] = broker.packets(Connect)
    assert (connect.client_id, connect.username, connect.password) == ("mosq-pub", "bob", b"pw")
    assert connect.will is not None
    assert (connect.will.message.topic, connect.will.message.payload) == ("lwt/mosq", b"bye")
    if version == "5":
        assert connect.properties["session_expiry_interval"] == 60
    [publish] = broker.packets(Publish)
    assert (publish.topic, publish.payload, publish.retain) == ("sensors/kitchen", b"21.5", True)
    assert publish.qos is QualityOfService(qos)
    if version == "5":
        assert publish.properties.user_properties == [("k", "v")]
    assert len(broker.packets(Pubrel)) == (1 if qos == 2 else 0)


@pytest.mark.parametrize("version", ["311", "5"])
def test_mosquitto_sub_receives_what_we_encode(broker: CaptureBroker, version: str) -> None:
    args = [SUB, "-h", "127.0.0.1", "-p", str(broker.port), "-V", version, "-i", "mosq-sub"]
    args += ["-t", "t/#", "-q", "2", "-C", "1", "-W", "15"]
    result = run(*args)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().encode() == GREETING

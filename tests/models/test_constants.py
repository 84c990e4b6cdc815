"""The constants are real IntEnums with the spec's values, checked against Rust."""

import enum

import pytest

from mqtt_common import _core
from mqtt_common.models import constants
from mqtt_common.models.constants import (
    ConnectReturnCode,
    MQTTProtocol,
    PacketType,
    PropertyId,
    ProtocolVersion,
    QualityOfService,
    ReasonCode,
)

ENUMS = [QualityOfService, PacketType, ConnectReturnCode, ReasonCode, ProtocolVersion, PropertyId]


@pytest.mark.parametrize("cls", ENUMS, ids=lambda cls: cls.__name__)
def test_real_int_enums(cls: type[enum.IntEnum]) -> None:
    assert issubclass(cls, enum.IntEnum)
    first = next(iter(cls))
    assert isinstance(first, int)
    assert cls(int(first)) is first
    assert cls[first.name] is first


def test_qos_values() -> None:
    assert [(m.name, m.value) for m in QualityOfService] == [
        ("AT_MOST_ONCE", 0),
        ("AT_LEAST_ONCE", 1),
        ("EXACTLY_ONCE", 2),
    ]
    with pytest.raises(ValueError, match="3"):
        QualityOfService(3)


def test_packet_types() -> None:
    assert PacketType.CONNECT.value == 1
    assert PacketType.DISCONNECT.value == 14
    assert PacketType.AUTH.value == 15
    assert len(PacketType) == 15


def test_connect_return_codes() -> None:
    assert [(m.name, m.value) for m in ConnectReturnCode] == [
        ("ACCEPTED", 0),
        ("UNACCEPTABLE_PROTOCOL_VERSION", 1),
        ("IDENTIFIER_REJECTED", 2),
        ("SERVER_UNAVAILABLE", 3),
        ("BAD_USERNAME_OR_PASSWORD", 4),
        ("NOT_AUTHORIZED", 5),
    ]


def test_reason_codes() -> None:
    assert len(ReasonCode) == 43  # distinct values; aliases are not iterated
    assert ReasonCode.SUCCESS.value == 0
    assert ReasonCode["NORMAL_DISCONNECTION"] is ReasonCode.SUCCESS
    assert ReasonCode["GRANTED_QOS_0"] is ReasonCode.SUCCESS
    assert ReasonCode.GRANTED_QOS_2.value == 2
    assert ReasonCode.MALFORMED_PACKET.value == 0x81
    assert ReasonCode.PROTOCOL_ERROR.value == 0x82
    assert ReasonCode.WILDCARD_SUBSCRIPTIONS_NOT_SUPPORTED.value == 0xA2
    for code in ReasonCode:
        assert code.is_error is (code.value >= 0x80), code


def test_protocol_versions_and_properties() -> None:
    assert [(m.name, m.value) for m in ProtocolVersion] == [("V3_1", 3), ("V3_1_1", 4), ("V5", 5)]
    assert len(PropertyId) == 27
    assert PropertyId.USER_PROPERTY.value == 0x26
    assert PropertyId.SHARED_SUBSCRIPTION_AVAILABLE.value == 0x2A


def test_protocol_namespace() -> None:
    assert MQTTProtocol.PROTOCOL_NAME == "MQTT"
    assert MQTTProtocol.PROTOCOL_NAME_V31 == "MQIsdp"
    assert MQTTProtocol.DEFAULT_PORT == 1883
    assert MQTTProtocol.DEFAULT_TLS_PORT == 8883
    assert MQTTProtocol.MAX_REMAINING_LENGTH == 268_435_455
    assert MQTTProtocol.MAX_TOPIC_LENGTH == 65_535
    assert MQTTProtocol.MAX_PACKET_ID == 65_535
    assert MQTTProtocol.MAX_KEEP_ALIVE == 65_535


def test_import_time_check_catches_drift(monkeypatch: pytest.MonkeyPatch) -> None:
    constants._check_against_rust()  # passes as shipped
    monkeypatch.setattr(_core, "QOS_MEMBERS", [*_core.QOS_MEMBERS, ("AT_MOST_TWICE", 3)])
    with pytest.raises(ImportError, match="QualityOfService"):
        constants._check_against_rust()


def test_import_time_check_catches_constant_drift(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_core, "PROTOCOL_INT_CONSTANTS", [("DEFAULT_PORT", 1884)])
    with pytest.raises(ImportError, match="DEFAULT_PORT"):
        constants._check_against_rust()

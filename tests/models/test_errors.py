"""The exception hierarchy: classes, attributes, pickling, subclassing, errors from Rust."""

import pickle

import pytest

from mqtt_common.models import Message
from mqtt_common.models.constants import ConnectReturnCode, ReasonCode
from mqtt_common.models.errors import (
    AuthenticationError,
    AuthorizationError,
    ConnectError,
    MalformedPacketError,
    MQTTError,
    ProtocolError,
    StateError,
    StorageError,
    ValidationError,
)

CLASSES: list[tuple[type[MQTTError], type[Exception], ReasonCode]] = [
    (MQTTError, Exception, ReasonCode.UNSPECIFIED_ERROR),
    (ProtocolError, MQTTError, ReasonCode.PROTOCOL_ERROR),
    (MalformedPacketError, ProtocolError, ReasonCode.MALFORMED_PACKET),
    (ConnectError, MQTTError, ReasonCode.UNSPECIFIED_ERROR),
    (AuthenticationError, MQTTError, ReasonCode.BAD_USER_NAME_OR_PASSWORD),
    (AuthorizationError, MQTTError, ReasonCode.NOT_AUTHORIZED),
    (StorageError, MQTTError, ReasonCode.IMPLEMENTATION_SPECIFIC_ERROR),
    (StateError, MQTTError, ReasonCode.IMPLEMENTATION_SPECIFIC_ERROR),
    (ValidationError, MQTTError, ReasonCode.UNSPECIFIED_ERROR),
]


@pytest.mark.parametrize(
    ("cls", "parent", "default"), CLASSES, ids=lambda x: getattr(x, "name", x)
)
def test_hierarchy_and_defaults(
    cls: type[MQTTError], parent: type[Exception], default: ReasonCode
) -> None:
    assert issubclass(cls, parent)
    err = cls("boom")
    assert str(err) == "boom"
    assert err.reason_code is default
    assert err.spec_ref is None


def test_validation_error_is_a_value_error() -> None:
    assert issubclass(ValidationError, ValueError)
    with pytest.raises(ValueError, match="wildcard"):
        Message("a/#")


@pytest.mark.parametrize("cls", [c for c, _, _ in CLASSES], ids=lambda c: c.__name__)
def test_pickle_keeps_class_and_attributes(cls: type[MQTTError]) -> None:
    err = cls("bad", reason_code=0x95, spec_ref="MQTT-3.2.2-15")
    again = pickle.loads(pickle.dumps(err))
    assert type(again) is cls
    assert str(again) == "bad"
    assert again.reason_code is ReasonCode.PACKET_TOO_LARGE
    assert again.spec_ref == "MQTT-3.2.2-15"


def test_instances_override_the_class_default() -> None:
    err = ProtocolError("alias", reason_code=ReasonCode.TOPIC_ALIAS_INVALID)
    assert err.reason_code is ReasonCode.TOPIC_ALIAS_INVALID
    assert ProtocolError.reason_code is ReasonCode.PROTOCOL_ERROR


def test_connect_error_return_code() -> None:
    err = ConnectError("nope", return_code=2, reason_code=0x85)
    assert err.return_code is ConnectReturnCode.IDENTIFIER_REJECTED
    assert err.reason_code is ReasonCode.CLIENT_IDENTIFIER_NOT_VALID
    again = pickle.loads(pickle.dumps(err))
    assert again.return_code is ConnectReturnCode.IDENTIFIER_REJECTED
    assert AuthenticationError.return_code is ConnectReturnCode.BAD_USERNAME_OR_PASSWORD
    assert AuthorizationError.return_code is ConnectReturnCode.NOT_AUTHORIZED


def test_subclasses_work_and_pickle() -> None:
    err = _DiskFullError("disk full", spec_ref=None)
    assert isinstance(err, StorageError)
    assert err.reason_code is ReasonCode.QUOTA_EXCEEDED
    assert type(pickle.loads(pickle.dumps(err))) is _DiskFullError


class _DiskFullError(StorageError):
    reason_code = ReasonCode.QUOTA_EXCEEDED


def test_errors_raised_in_rust_arrive_as_the_python_classes() -> None:
    with pytest.raises(ValidationError) as info:
        Message("sensors/+")
    err = info.value
    assert type(err) is ValidationError
    assert err.reason_code is ReasonCode.TOPIC_NAME_INVALID
    assert err.spec_ref == "MQTT-3.3.2-2"
    assert str(err) == "topic: topic name contains a wildcard [MQTT-3.3.2-2]"
    again = pickle.loads(pickle.dumps(err))
    assert (type(again), again.reason_code, again.spec_ref) == (
        ValidationError,
        err.reason_code,
        err.spec_ref,
    )

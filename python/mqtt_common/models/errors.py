"""The exception hierarchy of mqtt-common.

Every error carries ``reason_code`` (the MQTT 5.0 reason code a broker would report) and
``spec_ref`` (the normative statement it enforces, e.g. ``"MQTT-3.3.2-2"``, or None).
Each class has a default ``reason_code``; an instance may override it. Errors raised by
the Rust core arrive as these classes, with both attributes set. All of them pickle and
can be subclassed.

::

    MQTTError
    ├── ProtocolError
    │   └── MalformedPacketError
    ├── ConnectError
    ├── AuthenticationError
    ├── AuthorizationError
    ├── StorageError
    ├── StateError
    └── ValidationError (also a ValueError)

>>> from mqtt_common.models import Message
>>> try:
...     Message("sensors/#")
... except ValidationError as err:
...     print(err.reason_code.name, err.spec_ref)
TOPIC_NAME_INVALID MQTT-3.3.2-2
"""

from __future__ import annotations

from typing import ClassVar

from mqtt_common import _core
from mqtt_common.models.constants import ConnectReturnCode, ReasonCode

__all__ = [
    "AuthenticationError",
    "AuthorizationError",
    "ConnectError",
    "MQTTError",
    "MalformedPacketError",
    "ProtocolError",
    "StateError",
    "StorageError",
    "ValidationError",
]


class MQTTError(Exception):
    """Base class of every error that mqtt-common raises.

    Args:
        message: What went wrong, for people.
        reason_code: Overrides the class's default reason code.
        spec_ref: The normative statement or section that was broken.

    """

    #: The MQTT 5.0 reason code that fits this error.
    reason_code: ReasonCode = ReasonCode.UNSPECIFIED_ERROR
    #: The rule this error enforces, e.g. "MQTT-3.3.2-2", or None.
    spec_ref: str | None = None

    def __init__(
        self,
        message: str = "",
        *,
        reason_code: int | None = None,
        spec_ref: str | None = None,
    ) -> None:
        super().__init__(message)
        if reason_code is not None:
            self.reason_code = ReasonCode(reason_code)
        if spec_ref is not None:
            self.spec_ref = spec_ref


class ProtocolError(MQTTError):
    """A packet, or a sequence of packets, that breaks the protocol."""

    reason_code = ReasonCode.PROTOCOL_ERROR


class MalformedPacketError(ProtocolError):
    """Bytes that cannot be decoded as the packet they claim to be."""

    reason_code = ReasonCode.MALFORMED_PACKET


class ConnectError(MQTTError):
    """A connection attempt that was refused.

    Args:
        message: What went wrong, for people.
        return_code: The MQTT 3.1.1 CONNACK return code.
        reason_code: The MQTT 5.0 CONNACK reason code.
        spec_ref: The rule that was broken, if any.

    """

    #: The MQTT 3.1.1 CONNACK return code.
    return_code: ConnectReturnCode = ConnectReturnCode.SERVER_UNAVAILABLE

    def __init__(
        self,
        message: str = "",
        *,
        return_code: int | None = None,
        reason_code: int | None = None,
        spec_ref: str | None = None,
    ) -> None:
        super().__init__(message, reason_code=reason_code, spec_ref=spec_ref)
        if return_code is not None:
            self.return_code = ConnectReturnCode(return_code)


class AuthenticationError(MQTTError):
    """Credentials that were not accepted (5.0: 0x86, 3.1.1: CONNACK 4)."""

    reason_code = ReasonCode.BAD_USER_NAME_OR_PASSWORD
    #: The MQTT 3.1.1 CONNACK return code for this failure.
    return_code: ClassVar[ConnectReturnCode] = ConnectReturnCode.BAD_USERNAME_OR_PASSWORD


class AuthorizationError(MQTTError):
    """An action the client may not perform (5.0: 0x87, 3.1.1: CONNACK 5)."""

    reason_code = ReasonCode.NOT_AUTHORIZED
    #: The MQTT 3.1.1 CONNACK return code for this failure.
    return_code: ClassVar[ConnectReturnCode] = ConnectReturnCode.NOT_AUTHORIZED


class StorageError(MQTTError):
    """A storage backend that failed."""

    reason_code = ReasonCode.IMPLEMENTATION_SPECIFIC_ERROR


class StateError(MQTTError):
    """A call the state of a connection does not allow; nothing changed.

    ``ServerConnection.accept()`` twice, or ``deliver()`` before ``accept()`` or after
    the connection ended, say.
    """

    reason_code = ReasonCode.IMPLEMENTATION_SPECIFIC_ERROR


class ValidationError(MQTTError, ValueError):
    """A value that breaks a rule of the model: its message names the field and the rule.

    It is also a ``ValueError``, so ``except ValueError`` keeps working.
    """


def _check_against_rust() -> None:
    """Fail the import if a class's default reason code differs from the Rust table."""
    classes: dict[str, type[MQTTError]] = {
        cls.__name__: cls
        for cls in (
            MQTTError,
            ProtocolError,
            MalformedPacketError,
            ConnectError,
            AuthenticationError,
            AuthorizationError,
            StorageError,
            StateError,
            ValidationError,
        )
    }
    for name, code in _core.ERROR_CLASSES:
        cls = classes.get(name)
        if cls is None or cls.reason_code != code:
            msg = f"{name}'s default reason code differs from the Rust table ({code:#04x})"
            raise ImportError(msg)


_check_against_rust()

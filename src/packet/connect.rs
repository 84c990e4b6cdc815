//! CONNECT (§3.1) and CONNACK (§3.2).

use bytes::{BufMut, Bytes};

use crate::constants::protocol::{PROTOCOL_NAME, PROTOCOL_NAME_V31};
use crate::constants::{
    ConnectReturnCode, PacketType, PropertyContext, ProtocolVersion, QoS, ReasonCode,
};
use crate::error::{Error, Violation};
use crate::message::Message;
use crate::packet::header::FixedHeader;
use crate::packet::properties::{Properties, publish_properties_len, put_publish_properties};
use crate::packet::publish::malformed;
use crate::packet::wire::{
    Reader, Utf8Policy, put_binary, put_string, put_variable_integer, variable_integer_len,
};
use crate::session::Will;
use crate::string::MqttString;
use crate::topic::TopicName;

const CLEAN_START: u8 = 0b0000_0010;
const WILL: u8 = 0b0000_0100;
const WILL_RETAIN: u8 = 0b0010_0000;
const PASSWORD: u8 = 0b0100_0000;
const USERNAME: u8 = 0b1000_0000;

/// A CONNECT: the first packet of every connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connect {
    /// The protocol version the client speaks.
    pub protocol_version: ProtocolVersion,
    /// Clean Start (3.1.1: Clean Session).
    pub clean_start: bool,
    /// Keep Alive, in seconds (0: off).
    pub keep_alive: u16,
    /// The client identifier (empty: the server assigns one, or refuses).
    pub client_id: MqttString,
    /// The Will, if any.
    pub will: Option<Will>,
    /// The user name, if any.
    pub username: Option<MqttString>,
    /// The password (binary data), if any.
    pub password: Option<Bytes>,
    /// The CONNECT properties (MQTT 5.0), checked against Table 2-4.
    pub properties: Properties,
}

fn flags_error(flags: u8, rule: &'static str, spec_ref: &'static str) -> Error {
    Error::MalformedPacket(Violation::InvalidConnectFlags {
        flags,
        rule,
        spec_ref,
    })
}

impl Connect {
    /// Decodes the body of a CONNECT. The protocol version comes from the packet itself.
    ///
    /// # Errors
    /// [`Error::Connect`] for a protocol level this crate does not speak (CONNACK 0x01 /
    /// 0x84), or an empty client id without Clean Session in 3.1.1 (CONNACK 0x02);
    /// [`Error::MalformedPacket`] for truncated fields, the reserved flag, inconsistent
    /// Will or password flags ([MQTT-3.1.2-3], [MQTT-3.1.2-11..15], [MQTT-3.1.2-22]) and
    /// invalid strings; [`Error::Protocol`] for a protocol name that does not go with the
    /// level ([MQTT-3.1.2-1]) and the property rules.
    pub fn decode(_header: &FixedHeader, body: Bytes, policy: Utf8Policy) -> Result<Self, Error> {
        let mut reader = Reader::new(body, policy);
        let name = reader
            .string("protocol name")
            .map_err(Error::MalformedPacket)?;
        let level = reader
            .u8("protocol level")
            .map_err(Error::MalformedPacket)?;
        let Some(protocol_version) = ProtocolVersion::from_u8(level) else {
            return Err(Error::Connect {
                return_code: ConnectReturnCode::UnacceptableProtocolVersion,
                reason_code: ReasonCode::UnsupportedProtocolVersion,
                message: format!("protocol level {level} is not 3, 4 or 5"),
            });
        };
        if name.as_str() != protocol_version.protocol_name() {
            return Err(Error::Protocol(Violation::ProtocolNameMismatch {
                name: name.to_string(),
                level,
            }));
        }
        let flags = reader.u8("connect flags").map_err(Error::MalformedPacket)?;
        if flags & 0b1 != 0 {
            return Err(flags_error(
                flags,
                "the reserved flag must be 0",
                "MQTT-3.1.2-3",
            ));
        }
        let will_qos = (flags >> 3) & 0b11;
        if flags & WILL == 0 && (will_qos != 0 || flags & WILL_RETAIN != 0) {
            return Err(flags_error(
                flags,
                "Will QoS and Will Retain need the Will flag",
                "MQTT-3.1.2-13",
            ));
        }
        let Some(will_qos) = QoS::from_u8(will_qos) else {
            return Err(flags_error(
                flags,
                "Will QoS must not be 3",
                "MQTT-3.1.2-14",
            ));
        };
        let v5 = protocol_version == ProtocolVersion::V5;
        if !v5 && flags & PASSWORD != 0 && flags & USERNAME == 0 {
            return Err(flags_error(
                flags,
                "a password needs a user name",
                "MQTT-3.1.2-22",
            ));
        }
        let keep_alive = reader.u16("keep alive").map_err(Error::MalformedPacket)?;
        let properties = if v5 {
            Properties::read(
                &mut reader,
                PropertyContext::Packet(PacketType::Connect),
                false,
            )?
        } else {
            Properties::default()
        };
        let client_id = reader
            .string("client identifier")
            .map_err(Error::MalformedPacket)?;
        let clean_start = flags & CLEAN_START != 0;
        if client_id.is_empty() && !clean_start && !v5 {
            return Err(Error::Connect {
                return_code: ConnectReturnCode::IdentifierRejected,
                reason_code: ReasonCode::ClientIdentifierNotValid,
                message: "an empty client identifier needs Clean Session [MQTT-3.1.3-8]".into(),
            });
        }
        let will = if flags & WILL != 0 {
            let (will_properties, delay) = if v5 {
                Properties::read(&mut reader, PropertyContext::Will, false)?.into_publish()?
            } else {
                (Default::default(), None)
            };
            let topic_bytes = reader
                .binary("will topic")
                .map_err(Error::MalformedPacket)?;
            let topic = TopicName::from_bytes(topic_bytes).map_err(malformed)?;
            reader
                .check_policy(&topic)
                .map_err(Error::MalformedPacket)?;
            let payload = reader
                .binary("will payload")
                .map_err(Error::MalformedPacket)?;
            let message = Message::builder(topic)
                .payload(payload)
                .qos(will_qos)
                .retain(flags & WILL_RETAIN != 0)
                .properties(will_properties)
                .build()
                .map_err(malformed)?;
            Some(Will {
                message,
                delay_interval: delay.unwrap_or(0),
            })
        } else {
            None
        };
        let username = if flags & USERNAME != 0 {
            Some(reader.string("user name").map_err(Error::MalformedPacket)?)
        } else {
            None
        };
        let password = if flags & PASSWORD != 0 {
            Some(reader.binary("password").map_err(Error::MalformedPacket)?)
        } else {
            None
        };
        reader.finish("password").map_err(Error::MalformedPacket)?;
        Ok(Self {
            protocol_version,
            clean_start,
            keep_alive,
            client_id,
            will,
            username,
            password,
            properties,
        })
    }

    fn flags(&self) -> u8 {
        let mut flags = 0;
        if self.clean_start {
            flags |= CLEAN_START;
        }
        if let Some(will) = &self.will {
            flags |= WILL | (will.message.qos().as_u8() << 3);
            if will.message.retain() {
                flags |= WILL_RETAIN;
            }
        }
        if self.username.is_some() {
            flags |= USERNAME;
        }
        if self.password.is_some() {
            flags |= PASSWORD;
        }
        flags
    }

    fn will_delay(will: &Will) -> Option<u32> {
        (will.delay_interval != 0).then_some(will.delay_interval)
    }

    fn body_len(&self) -> usize {
        let v5 = self.protocol_version == ProtocolVersion::V5;
        let name = 2 + self.protocol_version.protocol_name().len();
        let properties = if v5 {
            let len = self.properties.len_on_wire();
            variable_integer_len(len as u32) + len
        } else {
            0
        };
        let will = self.will.as_ref().map_or(0, |will| {
            let properties = if v5 {
                let len = publish_properties_len(will.message.properties(), Self::will_delay(will));
                variable_integer_len(len as u32) + len
            } else {
                0
            };
            properties + 2 + will.message.topic().len() + 2 + will.message.payload().len()
        });
        name + 1
            + 1
            + 2
            + properties
            + 2
            + self.client_id.len()
            + will
            + self.username.as_ref().map_or(0, |u| 2 + u.len())
            + self.password.as_ref().map_or(0, |p| 2 + p.len())
    }

    /// The encoded size, fixed header included.
    pub fn encoded_len(&self) -> usize {
        let body = self.body_len();
        1 + variable_integer_len(body as u32) + body
    }

    /// Writes the packet in its own protocol version (properties only in 5.0).
    pub fn encode(&self, buf: &mut impl BufMut) {
        let v5 = self.protocol_version == ProtocolVersion::V5;
        buf.put_u8(PacketType::Connect.as_u8() << 4);
        put_variable_integer(buf, self.body_len() as u32);
        let name = if self.protocol_version == ProtocolVersion::V31 {
            PROTOCOL_NAME_V31
        } else {
            PROTOCOL_NAME
        };
        put_binary(buf, name.as_bytes());
        buf.put_u8(self.protocol_version.as_u8());
        buf.put_u8(self.flags());
        buf.put_u16(self.keep_alive);
        if v5 {
            self.properties.put(buf);
        }
        put_string(buf, &self.client_id);
        if let Some(will) = &self.will {
            if v5 {
                put_publish_properties(buf, will.message.properties(), Self::will_delay(will));
            }
            put_string(buf, will.message.topic().as_mqtt_str());
            put_binary(buf, will.message.payload());
        }
        if let Some(username) = &self.username {
            put_string(buf, username);
        }
        if let Some(password) = &self.password {
            put_binary(buf, password);
        }
    }
}

/// A CONNACK: the server's answer to CONNECT.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connack {
    session_present: bool,
    reason_code: ReasonCode,
    properties: Properties,
}

impl Connack {
    /// A CONNACK. `reason_code` is the 5.0 code; before 5.0 it is written as the 3.1.1
    /// return code closest to it.
    ///
    /// # Errors
    /// [`Violation::ReasonCodeNotAllowed`] (field `reason_code`) outside the CONNACK table,
    /// and [`Violation::InvalidConnackFlags`] for session present with a failure.
    pub fn new(
        session_present: bool,
        reason_code: ReasonCode,
        properties: Properties,
    ) -> Result<Self, Error> {
        reason_code
            .in_table_of(PacketType::Connack)
            .map_err(|v| Error::invalid("reason_code", v))?;
        if session_present && reason_code.is_error() {
            return Err(Error::invalid(
                "session_present",
                Violation::InvalidConnackFlags {
                    flags: 1,
                    code: reason_code.as_u8(),
                },
            ));
        }
        Ok(Self {
            session_present,
            reason_code,
            properties,
        })
    }

    /// Whether the server resumed a session.
    pub fn session_present(&self) -> bool {
        self.session_present
    }

    /// The 5.0 reason code (3.1.1 return codes are mapped onto it).
    pub fn reason_code(&self) -> ReasonCode {
        self.reason_code
    }

    /// The 3.1.1 return code that goes with the reason code.
    pub fn return_code(&self) -> ConnectReturnCode {
        return_code_for(self.reason_code)
    }

    /// The CONNACK properties (MQTT 5.0).
    pub fn properties(&self) -> &Properties {
        &self.properties
    }

    /// Decodes the body of a CONNACK.
    ///
    /// # Errors
    /// [`Error::MalformedPacket`] for truncated fields, reserved flag bits
    /// ([MQTT-3.2.2-1]), session present with a failure, and unknown codes;
    /// [`Error::Protocol`] for the property rules.
    pub fn decode(
        _header: &FixedHeader,
        body: Bytes,
        version: ProtocolVersion,
        policy: Utf8Policy,
    ) -> Result<Self, Error> {
        let mut reader = Reader::new(body, policy);
        let flags = reader
            .u8("acknowledge flags")
            .map_err(Error::MalformedPacket)?;
        let code = reader.u8("return code").map_err(Error::MalformedPacket)?;
        let invalid_flags = Error::MalformedPacket(Violation::InvalidConnackFlags { flags, code });
        if flags & 0b1111_1110 != 0 {
            return Err(invalid_flags);
        }
        let reason_code = if version == ProtocolVersion::V5 {
            ReasonCode::try_from(code)
                .and_then(|code| code.in_table_of(PacketType::Connack))
                .map_err(Error::MalformedPacket)?
        } else {
            reason_code_for(ConnectReturnCode::try_from(code).map_err(Error::MalformedPacket)?)
        };
        let session_present = flags & 1 != 0;
        if session_present && reason_code.is_error() {
            return Err(invalid_flags);
        }
        let properties = if version == ProtocolVersion::V5 {
            Properties::read(
                &mut reader,
                PropertyContext::Packet(PacketType::Connack),
                false,
            )?
        } else {
            Properties::default()
        };
        reader
            .finish("return code")
            .map_err(Error::MalformedPacket)?;
        Ok(Self {
            session_present,
            reason_code,
            properties,
        })
    }

    fn body_len(&self, version: ProtocolVersion) -> usize {
        if version != ProtocolVersion::V5 {
            return 2;
        }
        let len = self.properties.len_on_wire();
        2 + variable_integer_len(len as u32) + len
    }

    /// The encoded size, fixed header included.
    pub fn encoded_len(&self, version: ProtocolVersion) -> usize {
        let body = self.body_len(version);
        1 + variable_integer_len(body as u32) + body
    }

    /// Writes the packet.
    pub fn encode(&self, version: ProtocolVersion, buf: &mut impl BufMut) {
        buf.put_u8(PacketType::Connack.as_u8() << 4);
        put_variable_integer(buf, self.body_len(version) as u32);
        buf.put_u8(u8::from(self.session_present));
        if version == ProtocolVersion::V5 {
            buf.put_u8(self.reason_code.as_u8());
            self.properties.put(buf);
        } else {
            buf.put_u8(self.return_code().as_u8());
        }
    }
}

/// The 5.0 reason code for a 3.1.1 return code.
fn reason_code_for(code: ConnectReturnCode) -> ReasonCode {
    match code {
        ConnectReturnCode::Accepted => ReasonCode::Success,
        ConnectReturnCode::UnacceptableProtocolVersion => ReasonCode::UnsupportedProtocolVersion,
        ConnectReturnCode::IdentifierRejected => ReasonCode::ClientIdentifierNotValid,
        ConnectReturnCode::ServerUnavailable => ReasonCode::ServerUnavailable,
        ConnectReturnCode::BadUsernameOrPassword => ReasonCode::BadUserNameOrPassword,
        ConnectReturnCode::NotAuthorized => ReasonCode::NotAuthorized,
    }
}

/// The 3.1.1 return code closest to a 5.0 reason code.
fn return_code_for(code: ReasonCode) -> ConnectReturnCode {
    match code {
        ReasonCode::Success => ConnectReturnCode::Accepted,
        ReasonCode::UnsupportedProtocolVersion => ConnectReturnCode::UnacceptableProtocolVersion,
        ReasonCode::ClientIdentifierNotValid => ConnectReturnCode::IdentifierRejected,
        ReasonCode::BadUserNameOrPassword | ReasonCode::BadAuthenticationMethod => {
            ConnectReturnCode::BadUsernameOrPassword
        }
        ReasonCode::NotAuthorized | ReasonCode::Banned => ConnectReturnCode::NotAuthorized,
        _ => ConnectReturnCode::ServerUnavailable,
    }
}

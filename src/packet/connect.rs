//! CONNECT (MQTT 5.0 §3.1, 3.1.1 §3.1, 3.1 §3.1): the first packet of every connection.

use bytes::{BufMut, Bytes};

use crate::constants::{PacketType, PropertyContext, ProtocolVersion, QoS};
use crate::error::{Error, Violation};
use crate::message::{Header, Message, Will};
use crate::packet::header::{FixedHeader, first_byte};
use crate::packet::properties::{Properties, publish_properties_len, put_publish_properties};
use crate::packet::wire::{Reader, Utf8Policy, put_binary, put_string, variable_integer_len};
use crate::packet::{Encode, encode_checked};
use crate::string::MqttString;
use crate::topic::TopicName;

const RESERVED: u8 = 0b0000_0001;
const CLEAN_START: u8 = 0b0000_0010;
const WILL: u8 = 0b0000_0100;
const WILL_RETAIN: u8 = 0b0010_0000;
const PASSWORD: u8 = 0b0100_0000;
const USERNAME: u8 = 0b1000_0000;

/// The longest MQTT 3.1 client identifier, in characters (3.1 §3.1).
const MAX_CLIENT_ID_CHARS_V31: usize = 23;

/// A CONNECT: the first packet of every connection. It is always written in its own
/// protocol version.
///
/// # Examples
/// ```
/// use mqtt_common::packet::Connect;
/// use mqtt_common::{MqttString, ProtocolVersion};
/// let mut connect = Connect::new(ProtocolVersion::V311, MqttString::new("sensor-1")?);
/// connect.keep_alive = 30;
/// let mut buf = Vec::new();
/// connect.encode(&mut buf)?;
/// assert_eq!(buf[..2], [0x10, 20]);
/// # Ok::<(), mqtt_common::Error>(())
/// ```
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

impl Connect {
    /// A CONNECT with Clean Start, a Keep Alive of 60 seconds, and nothing else.
    pub fn new(protocol_version: ProtocolVersion, client_id: MqttString) -> Self {
        Self {
            protocol_version,
            clean_start: true,
            keep_alive: 60,
            client_id,
            will: None,
            username: None,
            password: None,
            properties: Properties::default(),
        }
    }

    /// Decodes the body of a CONNECT. The protocol version comes from the packet itself,
    /// and decides which rules apply: MQTT 3.1 leaves the fixed header flags and the
    /// reserved connect flag unused, 3.1.1 and 5.0 reserve them.
    ///
    /// # Errors
    /// A refused connection for a protocol level this crate does not speak (CONNACK 0x01
    /// / 0x84) or a client identifier the version does not allow (CONNACK 0x02 / 0x85);
    /// a malformed packet for truncated fields, reserved flags, inconsistent Will or
    /// password flags and invalid strings; a protocol error for a protocol name that does
    /// not go with the level ([MQTT-3.1.2-1]) and the property rules.
    pub fn decode(header: &FixedHeader, body: Bytes, policy: Utf8Policy) -> Result<Self, Error> {
        Self::read(header, body, policy).map_err(Error::received)
    }

    pub(crate) fn read(
        header: &FixedHeader,
        body: Bytes,
        policy: Utf8Policy,
    ) -> Result<Self, Violation> {
        let mut reader = Reader::new(body, policy);
        let name = reader.string("protocol name")?;
        let level = reader.u8("protocol level")?;
        let Some(protocol_version) = ProtocolVersion::from_u8(level) else {
            return Err(Violation::UnsupportedProtocolLevel { level });
        };
        if name.as_str() != protocol_version.protocol_name() {
            return Err(Violation::ProtocolNameMismatch {
                name: name.to_string(),
                level,
            });
        }
        let v31 = protocol_version == ProtocolVersion::V31;
        let v5 = protocol_version == ProtocolVersion::V5;
        if !v31 && header.flags != 0 {
            return Err(Violation::InvalidFlags {
                packet: PacketType::Connect,
                flags: header.flags,
            });
        }
        let flags = reader.u8("connect flags")?;
        if !v31 && flags & RESERVED != 0 {
            return Err(Violation::ConnectReservedFlag);
        }
        let will_qos = (flags >> 3) & 0b11;
        if flags & WILL == 0 {
            if will_qos != 0 {
                return Err(Violation::WillQoSWithoutWill);
            }
            if flags & WILL_RETAIN != 0 {
                return Err(Violation::WillRetainWithoutWill);
            }
        }
        let Some(will_qos) = QoS::from_u8(will_qos) else {
            return Err(Violation::WillQoS3);
        };
        if !v5 && flags & PASSWORD != 0 && flags & USERNAME == 0 {
            return Err(Violation::PasswordWithoutUsername);
        }
        let keep_alive = reader.u16("keep alive")?;
        let properties = if v5 {
            Properties::read(
                &mut reader,
                PropertyContext::Packet(PacketType::Connect),
                false,
            )?
        } else {
            Properties::default()
        };
        let client_id = reader.string("client identifier")?;
        let clean_start = flags & CLEAN_START != 0;
        check_client_id(protocol_version, &client_id, clean_start)?;
        let will = if flags & WILL != 0 {
            let (will_properties, delay) = if v5 {
                Properties::read(&mut reader, PropertyContext::Will, false)?.into_publish()?
            } else {
                (Default::default(), None)
            };
            let topic = TopicName::from_wire(reader.binary("will topic")?)?;
            reader.check_policy(&topic)?;
            let payload = reader.binary("will payload")?;
            let mut header = Header {
                qos: will_qos,
                retain: flags & WILL_RETAIN != 0,
                ..Header::default()
            };
            header.set_properties(will_properties);
            // A Will has no packet identifier or DUP flag, and its payload fits in a
            // two-byte length: the message's rules hold by construction.
            let message = Message::from_checked_parts(topic, payload, header);
            Some(Will {
                message,
                delay_interval: delay.unwrap_or(0),
            })
        } else {
            None
        };
        let username = if flags & USERNAME != 0 {
            Some(reader.string("user name")?)
        } else {
            None
        };
        let password = if flags & PASSWORD != 0 {
            Some(reader.binary("password")?)
        } else {
            None
        };
        reader.finish("password")?;
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

    /// The encoded size, fixed header included.
    pub fn encoded_len(&self) -> usize {
        <Self as Encode>::encoded_len(self, self.protocol_version)
    }

    /// Writes the packet in its own protocol version.
    ///
    /// # Errors
    /// A validation error when a field has no place in that version
    /// ([`Violation::NotInVersion`]: properties before 5.0, say) or the packet is larger
    /// than MQTT can carry; nothing is written then.
    pub fn encode(&self, buf: &mut impl BufMut) -> Result<(), Error> {
        encode_checked(self, self.protocol_version, buf)
    }
}

/// A CONNECT is written in its own version, whatever the caller's.
impl Encode for Connect {
    fn body_len(&self, _: ProtocolVersion) -> usize {
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

    fn check_version(&self, _: ProtocolVersion) -> Result<(), Violation> {
        let version = self.protocol_version;
        if version == ProtocolVersion::V5 {
            return self
                .properties
                .check_context(PropertyContext::Packet(PacketType::Connect));
        }
        let not_in = |what| Err(Violation::NotInVersion { what, version });
        if !self.properties.is_empty() {
            return not_in("properties");
        }
        if let Some(will) = &self.will {
            if !will.message.properties().is_empty() {
                return not_in("will properties");
            }
            if will.delay_interval != 0 {
                return not_in("a will delay interval");
            }
        }
        if self.password.is_some() && self.username.is_none() {
            return Err(Violation::PasswordWithoutUsername);
        }
        Ok(())
    }

    fn first_byte(&self) -> u8 {
        first_byte(PacketType::Connect)
    }

    fn write_body(&self, _: ProtocolVersion, _: usize, buf: &mut impl BufMut) {
        let v5 = self.protocol_version == ProtocolVersion::V5;
        put_binary(buf, self.protocol_version.protocol_name().as_bytes());
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

/// The client identifier rules that depend on the version: MQTT 3.1 identifiers have 1 to
/// 23 characters; an empty 3.1.1 identifier needs Clean Session ([MQTT-3.1.3-8]); an
/// empty 5.0 identifier asks the server to assign one.
fn check_client_id(
    version: ProtocolVersion,
    client_id: &MqttString,
    clean_start: bool,
) -> Result<(), Violation> {
    match version {
        ProtocolVersion::V31 => {
            let len = client_id.chars().count();
            if len == 0 || len > MAX_CLIENT_ID_CHARS_V31 {
                return Err(Violation::ClientIdLengthV31 { len });
            }
        }
        ProtocolVersion::V311 if client_id.is_empty() && !clean_start => {
            return Err(Violation::EmptyClientIdWithoutCleanSession);
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::packet::header::check_flags;

    /// The framer cannot know the version yet; `Connect::read` applies the rule.
    #[test]
    fn the_framer_leaves_connect_flags_to_the_packet() {
        assert!(check_flags(PacketType::Connect, 0b1111).is_ok());
    }
}

//! The acknowledgements of a PUBLISH: PUBACK (§3.4, QoS 1), PUBREC, PUBREL and PUBCOMP
//! (§3.5-3.7, QoS 2). One shape, four packet types, each with its own reason code table.

use bytes::{BufMut, Bytes};

use crate::constants::{PacketType, PropertyContext, PropertyId, ProtocolVersion, ReasonCode};
use crate::error::{Error, Violation};
use crate::packet::header::{FixedHeader, first_byte};
use crate::packet::properties::{Properties, PropertyValue};
use crate::packet::wire::{
    Reader, Utf8Policy, put_string, put_variable_integer, variable_integer_len,
};
use crate::packet::{Encode, only_in_v5, public_encoding};
use crate::packet_id::PacketId;
use crate::string::MqttString;

/// The properties of an acknowledgement: a Reason String and User Properties.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct AckProperties {
    /// Reason String (0x1F), for people.
    pub reason_string: Option<MqttString>,
    /// User Properties (0x26), in order.
    pub user_properties: Vec<(MqttString, MqttString)>,
}

impl AckProperties {
    /// Whether no property is set.
    pub fn is_empty(&self) -> bool {
        self.reason_string.is_none() && self.user_properties.is_empty()
    }

    pub(crate) fn from_properties(properties: Properties) -> Self {
        let mut ack = Self::default();
        for (property, value) in properties.iter().cloned() {
            match (property, value) {
                (PropertyId::ReasonString, PropertyValue::String(s)) => ack.reason_string = Some(s),
                (PropertyId::UserProperty, PropertyValue::StringPair(k, v)) => {
                    ack.user_properties.push((k, v));
                }
                // `Properties::read` let through only what the packet allows.
                _ => {}
            }
        }
        ack
    }

    pub(crate) fn len(&self) -> usize {
        self.reason_string.as_ref().map_or(0, |s| 1 + 2 + s.len())
            + self
                .user_properties
                .iter()
                .map(|(k, v)| 1 + 2 + k.len() + 2 + v.len())
                .sum::<usize>()
    }

    /// Writes the Property Length and the properties, in ascending identifier order.
    pub(crate) fn put(&self, buf: &mut impl BufMut) {
        put_variable_integer(buf, self.len() as u32);
        if let Some(s) = &self.reason_string {
            buf.put_u8(PropertyId::ReasonString.as_u8());
            put_string(buf, s);
        }
        for (k, v) in &self.user_properties {
            buf.put_u8(PropertyId::UserProperty.as_u8());
            put_string(buf, k);
            put_string(buf, v);
        }
    }
}

/// The fields the four acknowledgements share.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct AckFields {
    packet_id: PacketId,
    reason_code: ReasonCode,
    properties: AckProperties,
}

impl AckFields {
    fn read(
        packet: PacketType,
        body: Bytes,
        version: ProtocolVersion,
        policy: Utf8Policy,
    ) -> Result<Self, Violation> {
        let mut reader = Reader::new(body, policy);
        let packet_id = reader.packet_id()?;
        let mut fields = Self {
            packet_id,
            reason_code: ReasonCode::Success,
            properties: AckProperties::default(),
        };
        // 3.1.x acknowledgements are exactly the packet identifier; 5.0 may stop there
        // (Success), after the reason code, or go on with properties (§3.4.2.1).
        if version == ProtocolVersion::V5 && !reader.is_empty() {
            let code = reader.u8("reason code")?;
            fields.reason_code = ReasonCode::try_from(code)?.in_table_of(packet)?;
            if !reader.is_empty() {
                let properties =
                    Properties::read(&mut reader, PropertyContext::Packet(packet), false)?;
                fields.properties = AckProperties::from_properties(properties);
            }
        }
        reader.finish("packet identifier")?;
        Ok(fields)
    }

    /// Before 5.0 an acknowledgement is its packet identifier alone.
    fn check_version(&self, version: ProtocolVersion) -> Result<(), Violation> {
        let reason_code = self.reason_code;
        only_in_v5(
            reason_code.name(),
            reason_code != ReasonCode::Success,
            version,
        )?;
        only_in_v5("properties", !self.properties.is_empty(), version)
    }

    fn body_len(&self, version: ProtocolVersion) -> usize {
        if version != ProtocolVersion::V5
            || (self.properties.is_empty() && self.reason_code == ReasonCode::Success)
        {
            return 2;
        }
        if self.properties.is_empty() {
            return 3;
        }
        let properties = self.properties.len();
        3 + variable_integer_len(properties as u32) + properties
    }

    /// Writes the body, `body` bytes long ([`AckFields::body_len`]): the short forms
    /// leave out the defaults (§3.4.2.1).
    fn write_body(&self, body: usize, buf: &mut impl BufMut) {
        buf.put_u16(self.packet_id.get());
        if body >= 3 {
            buf.put_u8(self.reason_code.as_u8());
        }
        if body > 3 {
            self.properties.put(buf);
        }
    }
}

macro_rules! ack_packet {
    ($(#[$doc:meta])* $name:ident, $packet:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(AckFields);

        impl $name {
            /// An acknowledgement of `packet_id` with reason Success and no properties.
            pub fn new(packet_id: PacketId) -> Self {
                Self(AckFields {
                    packet_id,
                    reason_code: ReasonCode::Success,
                    properties: AckProperties::default(),
                })
            }

            /// The same acknowledgement with a reason code and properties (MQTT 5.0).
            ///
            /// # Errors
            /// [`Violation::ReasonCodeNotAllowed`] (field `reason_code`) for a code outside
            /// this packet's table.
            pub fn with_reason(mut self, reason_code: ReasonCode, properties: AckProperties) -> Result<Self, Error> {
                reason_code.in_table_of($packet).map_err(|v| Error::invalid("reason_code", v))?;
                self.0.reason_code = reason_code;
                self.0.properties = properties;
                Ok(self)
            }

            /// The packet identifier acknowledged.
            pub fn packet_id(&self) -> PacketId {
                self.0.packet_id
            }

            /// The reason code (always Success before MQTT 5.0).
            pub fn reason_code(&self) -> ReasonCode {
                self.0.reason_code
            }

            /// The properties.
            pub fn properties(&self) -> &AckProperties {
                &self.0.properties
            }

            /// Decodes the body of a packet whose fixed header [`crate::packet::frame`]
            /// checked.
            ///
            /// # Errors
            /// A malformed packet for a truncated or overlong body or a reason code
            /// outside the table; a protocol error for packet identifier 0 and the
            /// property rules.
            pub fn decode(_header: &FixedHeader, body: Bytes, version: ProtocolVersion, policy: Utf8Policy) -> Result<Self, Error> {
                Self::read(body, version, policy).map_err(Error::received)
            }

            pub(crate) fn read(body: Bytes, version: ProtocolVersion, policy: Utf8Policy) -> Result<Self, Violation> {
                AckFields::read($packet, body, version, policy).map(Self)
            }
        }

        public_encoding!(
            $name,
            /// The short form is used where the spec allows (§3.4.2.1). Before 5.0, a
            /// reason code other than Success, or properties, cannot be written.
        );

        impl Encode for $name {
            fn body_len(&self, version: ProtocolVersion) -> usize {
                self.0.body_len(version)
            }

            fn check_version(&self, version: ProtocolVersion) -> Result<(), Violation> {
                self.0.check_version(version)
            }

            fn first_byte(&self) -> u8 {
                first_byte($packet)
            }

            fn write_body(&self, _: ProtocolVersion, body_len: usize, buf: &mut impl BufMut) {
                self.0.write_body(body_len, buf);
            }
        }
    };
}

ack_packet!(
    /// PUBACK: the end of a QoS 1 flow (§3.4).
    ///
    /// # Examples
    /// ```
    /// use mqtt_common::bytes::BytesMut;
    /// use mqtt_common::packet::Puback;
    /// use mqtt_common::{PacketId, ProtocolVersion};
    /// let mut buf = BytesMut::new();
    /// Puback::new(PacketId::new(7)?).encode(ProtocolVersion::V5, &mut buf)?;
    /// assert_eq!(&buf[..], b"\x40\x02\x00\x07"); // the short form
    /// # Ok::<(), mqtt_common::Error>(())
    /// ```
    Puback,
    PacketType::Puback
);
ack_packet!(
    /// PUBREC: the first answer in a QoS 2 flow (§3.5).
    Pubrec,
    PacketType::Pubrec
);
ack_packet!(
    /// PUBREL: the release of a QoS 2 message (§3.6); fixed header flags 0010.
    Pubrel,
    PacketType::Pubrel
);
ack_packet!(
    /// PUBCOMP: the end of a QoS 2 flow (§3.7).
    Pubcomp,
    PacketType::Pubcomp
);

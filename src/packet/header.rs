//! The fixed header (MQTT 5.0 §2.1) and framing: where a packet ends, checked before any
//! of its body is buffered.

use crate::constants::{PacketType, ProtocolVersion, QoS};
use crate::error::{Error, Violation};
use crate::packet::wire::decode_variable_integer;

/// The first bytes of every packet: type, flags and Remaining Length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FixedHeader {
    /// The packet type.
    pub packet_type: PacketType,
    /// The four flag bits, checked against the type's rule.
    pub flags: u8,
    /// The Remaining Length: the bytes after the fixed header.
    pub remaining_length: u32,
    /// The length of the fixed header itself (2 to 5 bytes).
    pub header_len: usize,
}

impl FixedHeader {
    /// The whole packet's length: fixed header and Remaining Length.
    pub fn packet_len(&self) -> usize {
        self.header_len + self.remaining_length as usize
    }

    /// The QoS bits of a PUBLISH (always valid: [`frame`] refused `11`).
    pub fn qos(&self) -> QoS {
        QoS::from_u8((self.flags >> 1) & 0b11).unwrap_or(QoS::AtMostOnce)
    }

    /// The DUP flag of a PUBLISH.
    pub fn dup(&self) -> bool {
        self.flags & 0b1000 != 0
    }

    /// The RETAIN flag of a PUBLISH.
    pub fn retain(&self) -> bool {
        self.flags & 0b0001 != 0
    }
}

/// The fixed-header flags every packet type but PUBLISH and CONNECT must carry
/// (MQTT 5.0 Table 2-2).
const fn reserved_flags(packet_type: PacketType) -> u8 {
    match packet_type {
        PacketType::Pubrel | PacketType::Subscribe | PacketType::Unsubscribe => 0b0010,
        _ => 0,
    }
}

/// The first byte of a packet other than PUBLISH: its type and reserved flags.
pub(crate) const fn first_byte(packet_type: PacketType) -> u8 {
    (packet_type.as_u8() << 4) | reserved_flags(packet_type)
}

/// Checks the flags of a packet type ([MQTT-2.1.3-1], [MQTT-3.3.1-4], [MQTT-3.3.1-2]).
///
/// CONNECT's are checked by [`crate::packet::Connect`] once its protocol level is known:
/// MQTT 3.1 leaves them unused, 3.1.1 and 5.0 reserve them.
pub(crate) fn check_flags(packet_type: PacketType, flags: u8) -> Result<(), Violation> {
    let valid = match packet_type {
        PacketType::Publish => {
            let qos = (flags >> 1) & 0b11;
            let dup = flags & 0b1000 != 0;
            qos != 0b11 && !(dup && qos == 0)
        }
        PacketType::Connect => true,
        _ => flags == reserved_flags(packet_type),
    };
    if valid {
        Ok(())
    } else {
        Err(Violation::InvalidFlags {
            packet: packet_type,
            flags,
        })
    }
}

/// Finds the next packet at the start of `buf`.
///
/// Returns `Ok(None)` while the fixed header or the body is incomplete, which is the only
/// "need more bytes" in the codec. A packet larger than `max_packet_size` (fixed header
/// included) is refused as soon as its Remaining Length is known, before any of its body
/// has to be buffered (CVE-2017-7651, CVE-2023-0809). `version` decides whether type 15
/// (AUTH) exists; `None` (before CONNECT) allows it only as far as the caller does.
///
/// # Errors
/// A malformed packet for a reserved type, wrong flags or a bad Remaining Length; a
/// protocol error with [`Violation::PacketTooLarge`] past the maximum.
///
/// # Examples
/// ```
/// use mqtt_common::packet::frame;
/// use mqtt_common::{PacketType, ProtocolVersion};
/// // PINGREQ, then the first byte of the next packet.
/// let header = frame(&[0xC0, 0x00, 0x30], Some(ProtocolVersion::V311), 1024)?.unwrap();
/// assert_eq!((header.packet_type, header.packet_len()), (PacketType::Pingreq, 2));
/// // A PUBLISH announcing 200 MB is refused from its first 5 bytes.
/// assert!(frame(&[0x30, 0x80, 0x80, 0x80, 0x60], None, 1 << 20).is_err());
/// // Half a header: wait for more.
/// assert!(frame(&[0x30, 0x80], None, 1024)?.is_none());
/// # Ok::<(), mqtt_common::Error>(())
/// ```
pub fn frame(
    buf: &[u8],
    version: Option<ProtocolVersion>,
    max_packet_size: u32,
) -> Result<Option<FixedHeader>, Error> {
    read_frame(buf, version, max_packet_size).map_err(Error::received)
}

/// [`frame`], reporting the broken rule itself.
pub(crate) fn read_frame(
    buf: &[u8],
    version: Option<ProtocolVersion>,
    max_packet_size: u32,
) -> Result<Option<FixedHeader>, Violation> {
    let Some(&first) = buf.first() else {
        return Ok(None);
    };
    let (type_bits, flags) = (first >> 4, first & 0x0F);
    let packet_type = match PacketType::from_u8(type_bits) {
        Some(PacketType::Auth)
            if matches!(version, Some(ProtocolVersion::V31 | ProtocolVersion::V311)) =>
        {
            return Err(Violation::ReservedPacketType { value: type_bits });
        }
        Some(packet_type) => packet_type,
        None => return Err(Violation::ReservedPacketType { value: type_bits }),
    };
    check_flags(packet_type, flags)?;
    let Some((remaining_length, len)) = decode_variable_integer(&buf[1..])? else {
        return Ok(None);
    };
    let header = FixedHeader {
        packet_type,
        flags,
        remaining_length,
        header_len: 1 + len,
    };
    let size = header.packet_len() as u64;
    if size > u64::from(max_packet_size) {
        return Err(Violation::PacketTooLarge {
            size,
            max: max_packet_size,
        });
    }
    if buf.len() < header.packet_len() {
        return Ok(None);
    }
    Ok(Some(header))
}

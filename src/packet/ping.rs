//! PINGREQ and PINGRESP (MQTT 5.0 §3.12, §3.13): packets without a body.

use bytes::Bytes;

use crate::error::Violation;

/// Checks the body of a PINGREQ or PINGRESP, which has none.
///
/// # Errors
/// [`Violation::TrailingBytes`] for a non-empty body.
pub(crate) fn read(body: &Bytes) -> Result<(), Violation> {
    if body.is_empty() {
        return Ok(());
    }
    Err(Violation::TrailingBytes {
        what: "fixed header",
        len: body.len(),
    })
}

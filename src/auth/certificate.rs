//! The user name a client certificate gives, as mosquitto's `use_identity_as_username`
//! and `use_subject_as_username` give it.
//!
//! The certificate's chain is the TLS layer's to verify; this only reads a certificate
//! that layer accepted (DER or PEM, through x509-parser).

use std::fmt::Write as _;

use x509_parser::prelude::{FromDer, X509Certificate};
use x509_parser::x509::{AttributeTypeAndValue, X509Name};

use crate::error::Error;

/// Which part of a client certificate is the user name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CertificateIdentity {
    /// The subject's first Common Name (mosquitto's `use_identity_as_username`).
    CommonName,
    /// The whole subject, as OpenSSL prints it in RFC 2253 form, most specific part
    /// first: `CN=sensor-7,O=Example,C=GB` (mosquitto's `use_subject_as_username`).
    Subject,
}

impl CertificateIdentity {
    /// The identity a mosquitto option names: `use_identity_as_username` or
    /// `use_subject_as_username`, or our short names `common_name` and `subject`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "common_name" | "use_identity_as_username" => Some(Self::CommonName),
            "subject" | "use_subject_as_username" => Some(Self::Subject),
            _ => None,
        }
    }

    /// The user name `certificate` (DER, or PEM) gives.
    ///
    /// # Errors
    /// an authentication error for bytes that are not a certificate, a subject without a
    /// Common Name, or a name that is not UTF-8 or holds a NUL character.
    ///
    /// # Examples
    /// ```
    /// use mqtt_common::auth::CertificateIdentity;
    ///
    /// let err = CertificateIdentity::CommonName.username(b"not a certificate").unwrap_err();
    /// assert!(err.to_string().contains("not a certificate"));
    /// ```
    pub fn username(self, certificate: &[u8]) -> Result<String, Error> {
        let der = if certificate.starts_with(b"-----BEGIN") {
            let (_, pem) = x509_parser::pem::parse_x509_pem(certificate)
                .map_err(|e| refused(format!("not a certificate: {e}")))?;
            pem.contents
        } else {
            certificate.to_vec()
        };
        let (_, cert) = X509Certificate::from_der(&der)
            .map_err(|e| refused(format!("not a certificate: {e}")))?;
        let name = match self {
            Self::CommonName => {
                let cn = cert
                    .subject()
                    .iter_common_name()
                    .next()
                    .ok_or_else(|| refused("the certificate's subject has no Common Name"))?;
                cn.as_str()
                    .map_err(|_| refused("the certificate's Common Name is not a UTF-8 string"))?
                    .to_owned()
            }
            Self::Subject => rfc2253(cert.subject()),
        };
        if name.contains('\0') {
            return Err(refused("the certificate's name holds a NUL character"));
        }
        Ok(name)
    }
}

fn refused(why: impl Into<String>) -> Error {
    Error::authentication(why.into())
}

/// OpenSSL's short name of an attribute type, as `X509_NAME_print_ex` prints it.
fn short_name(attribute: &AttributeTypeAndValue<'_>) -> Option<&'static str> {
    Some(match attribute.attr_type().to_id_string().as_str() {
        "2.5.4.3" => "CN",
        "2.5.4.4" => "SN",
        "2.5.4.5" => "serialNumber",
        "2.5.4.6" => "C",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.9" => "street",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.12" => "title",
        "2.5.4.42" => "GN",
        "2.5.4.43" => "initials",
        "2.5.4.46" => "dnQualifier",
        "0.9.2342.19200300.100.1.1" => "UID",
        "0.9.2342.19200300.100.1.25" => "DC",
        "1.2.840.113549.1.9.1" => "emailAddress",
        _ => return None,
    })
}

/// The subject as `X509_NAME_print_ex(.., XN_FLAG_RFC2253)` prints it: parts most
/// specific first, joined by `,` (and `+` within one), special characters escaped with
/// `\`, control and non-ASCII bytes as `\XX`, unknown types as `#` and their DER in hex.
fn rfc2253(name: &X509Name<'_>) -> String {
    let mut out = String::new();
    for (index, rdn) in name
        .iter_rdn()
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .enumerate()
    {
        if index > 0 {
            out.push(',');
        }
        for (position, attribute) in rdn.iter().enumerate() {
            if position > 0 {
                out.push('+');
            }
            let known = short_name(attribute);
            match known {
                Some(short) => out.push_str(short),
                None => out.push_str(&attribute.attr_type().to_id_string()),
            }
            out.push('=');
            match attribute.as_str() {
                Ok(text) if known.is_some() => escape(text.as_bytes(), &mut out),
                _ => {
                    out.push('#');
                    let value = attribute.attr_value();
                    let mut der = Vec::new();
                    // The tag, the length and the content, as the DER on the wire.
                    der.push(value.header.raw_tag().map_or(0, |t| t[0]));
                    let length = value.data.len();
                    if length < 0x80 {
                        der.push(u8::try_from(length).unwrap_or(0));
                    } else {
                        let bytes: Vec<u8> = length
                            .to_be_bytes()
                            .into_iter()
                            .skip_while(|b| *b == 0)
                            .collect();
                        der.push(0x80 | u8::try_from(bytes.len()).unwrap_or(0));
                        der.extend(bytes);
                    }
                    der.extend_from_slice(value.data);
                    for byte in der {
                        let _ = write!(out, "{byte:02X}");
                    }
                }
            }
        }
    }
    out
}

fn escape(value: &[u8], out: &mut String) {
    let last = value.len().saturating_sub(1);
    for (index, &byte) in value.iter().enumerate() {
        let special = matches!(byte, b',' | b'+' | b'"' | b'\\' | b'<' | b'>' | b';')
            || (index == 0 && matches!(byte, b'#' | b' '))
            || (index == last && byte == b' ');
        if !(0x20..0x7f).contains(&byte) {
            let _ = write!(out, "\\{byte:02X}");
        } else if special {
            out.push('\\');
            out.push(char::from(byte));
        } else {
            out.push(char::from(byte));
        }
    }
}

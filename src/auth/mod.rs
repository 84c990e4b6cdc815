//! Authentication and authorization: the credentials a client presents, the actions it
//! asks to perform, and the [`AuthInterface`] that auth providers implement.

#[cfg(feature = "auth-files")]
mod acl_file;
mod asynchronous;
#[cfg(feature = "auth-files")]
mod certificate;
#[cfg(feature = "auth-files")]
mod chain;
#[cfg(feature = "auth-files")]
mod file_auth;
#[cfg(feature = "auth-files")]
mod password_file;

use std::fmt;

use bytes::Bytes;

use crate::error::Error;
use crate::string::MqttString;

/// What a client presents when it connects. The password never appears in `Debug`.
///
/// # Examples
/// ```
/// use mqtt_common::AuthCredentials;
/// let credentials = AuthCredentials::new("sensor-1")?
///     .with_username("alice")?
///     .with_password(b"s3cret".as_slice());
/// assert!(!format!("{credentials:?}").contains("s3cret"));
/// # Ok::<(), mqtt_common::Error>(())
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct AuthCredentials {
    client_id: MqttString,
    username: Option<MqttString>,
    /// Boxed: the router keeps every client's owner, and most owners have none of it.
    extra: Option<Box<Extra>>,
}

/// The password, certificate and address, when any is given.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
struct Extra {
    password: Option<Bytes>,
    certificate: Option<Bytes>,
    peer: Option<String>,
}

impl AuthCredentials {
    /// Credentials with only a client identifier.
    ///
    /// # Errors
    /// A validation error (field `client_id`) for a string MQTT cannot carry.
    pub fn new(client_id: &str) -> Result<Self, Error> {
        Ok(Self {
            client_id: MqttString::new(client_id).map_err(|v| Error::invalid("client_id", v))?,
            username: None,
            extra: None,
        })
    }

    /// Credentials rebuilt from what a session keeps of them (no password, no peer).
    pub(crate) fn from_parts(
        client_id: MqttString,
        username: Option<MqttString>,
        certificate: Option<Bytes>,
    ) -> Self {
        Self {
            client_id,
            username,
            extra: certificate.map(|certificate| {
                Box::new(Extra {
                    certificate: Some(certificate),
                    ..Extra::default()
                })
            }),
        }
    }

    /// Adds a user name.
    ///
    /// # Errors
    /// A validation error (field `username`) for a string MQTT cannot carry.
    pub fn with_username(mut self, username: &str) -> Result<Self, Error> {
        self.username = Some(MqttString::new(username).map_err(|v| Error::invalid("username", v))?);
        Ok(self)
    }

    /// Adds a password (binary data in MQTT: any bytes).
    pub fn with_password(mut self, password: impl Into<Bytes>) -> Self {
        self.extra().password = Some(password.into());
        self
    }

    /// Adds the client's certificate (DER or PEM) from a TLS handshake.
    pub fn with_certificate(mut self, certificate: impl Into<Bytes>) -> Self {
        self.extra().certificate = Some(certificate.into());
        self
    }

    /// Adds the peer's address, as the network layer writes it.
    pub fn with_peer(mut self, peer: impl Into<String>) -> Self {
        self.extra().peer = Some(peer.into());
        self
    }

    /// The client identifier.
    pub fn client_id(&self) -> &str {
        self.client_id.as_str()
    }

    /// The user name, if given.
    pub fn username(&self) -> Option<&str> {
        self.username.as_deref()
    }

    /// The password, if given.
    pub fn password(&self) -> Option<&Bytes> {
        self.extra.as_ref()?.password.as_ref()
    }

    /// The client certificate, if any.
    pub fn certificate(&self) -> Option<&Bytes> {
        self.extra.as_ref()?.certificate.as_ref()
    }

    /// The peer's address, if known.
    pub fn peer(&self) -> Option<&str> {
        self.extra.as_ref()?.peer.as_deref()
    }

    fn extra(&mut self) -> &mut Extra {
        self.extra.get_or_insert_default()
    }
}

impl fmt::Debug for AuthCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthCredentials")
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .field("password", &self.password().map(|_| "<redacted>"))
            .field("certificate", &self.certificate().map(Bytes::len))
            .field("peer", &self.peer())
            .finish()
    }
}

/// What a client asks to do with a topic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Action {
    /// Publish to a topic name.
    Publish,
    /// Subscribe to a topic filter.
    Subscribe,
    /// Receive a message published to a topic name.
    Receive,
}

impl Action {
    /// Every action as `(Python name, value)`: the table the Python `IntEnum` is checked
    /// against.
    pub const MEMBERS: &'static [(&'static str, u8)] =
        &[("PUBLISH", 1), ("SUBSCRIBE", 2), ("RECEIVE", 3)];

    /// The action's value in [`Action::MEMBERS`].
    pub const fn as_u8(self) -> u8 {
        match self {
            Self::Publish => 1,
            Self::Subscribe => 2,
            Self::Receive => 3,
        }
    }

    /// The action with this value, if any.
    pub const fn from_u8(value: u8) -> Option<Self> {
        match value {
            1 => Some(Self::Publish),
            2 => Some(Self::Subscribe),
            3 => Some(Self::Receive),
            _ => None,
        }
    }
}

/// An authentication and authorization provider.
///
/// Implementations are shared between connections (`Send + Sync`, `&self`) and must
/// not block: a call returns promptly.
pub trait AuthInterface: Send + Sync {
    /// Whether the credentials are accepted.
    ///
    /// # Errors
    /// Any [`Error`] the provider reports (a backend failing, say); a refusal is
    /// `Ok(false)`.
    fn authenticate(&self, credentials: &AuthCredentials) -> Result<bool, Error>;

    /// Whether the client may perform `action` on `topic` (a topic filter for
    /// [`Action::Subscribe`], a topic name otherwise).
    ///
    /// # Errors
    /// Any [`Error`] the provider reports; a refusal is `Ok(false)`.
    fn authorize(
        &self,
        credentials: &AuthCredentials,
        topic: &str,
        action: Action,
    ) -> Result<bool, Error>;

    /// Whether this provider knows the client (its user), so that in an
    /// `AuthChain` with `ChainRule::FirstThatKnows` (feature `auth-files`) it is the
    /// one that decides. By default a provider knows every client.
    ///
    /// # Errors
    /// Any [`Error`] the provider reports.
    fn knows(&self, credentials: &AuthCredentials) -> Result<bool, Error> {
        let _ = credentials;
        Ok(true)
    }
}

#[cfg(feature = "auth-files")]
pub use acl_file::AclFile;
pub use asynchronous::AsyncAuthInterface;
#[cfg(feature = "auth-files")]
pub use certificate::CertificateIdentity;
#[cfg(feature = "auth-files")]
pub use chain::{AuthChain, ChainRule};
#[cfg(feature = "auth-files")]
pub use file_auth::FileAuth;
#[cfg(feature = "auth-files")]
pub use password_file::{
    BadLine, DEFAULT_PBKDF2_ITERATIONS, HashKind, MAX_PBKDF2_ITERATIONS, PasswordFile,
    hash_password,
};

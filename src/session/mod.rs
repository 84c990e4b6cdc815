//! Sessions: a client's [`Session`] state, the [`SessionInterface`] that session stores
//! implement, and [`MemorySessionStore`], the reference store.

mod asynchronous;
mod calls;
mod memory;
mod state;

pub use asynchronous::AsyncSessionInterface;
pub use calls::SessionCall;
pub use memory::MemorySessionStore;
#[cfg(any(feature = "sqlite", feature = "redis"))]
pub(crate) use state::SessionParts;
pub use state::{DEFAULT_RECEIVE_MAXIMUM, InFlight, OutgoingState, Session};

use crate::constants::ProtocolVersion;
use crate::error::Error;
use crate::message::Will;

/// A session store: creates, resumes, saves and deletes sessions, and keeps Wills.
///
/// Implementations are shared between connections (`Send + Sync`, `&self`) and must
/// not block: a call returns promptly.
pub trait SessionInterface: Send + Sync {
    /// The session for a CONNECT, and whether one was present ([MQTT-3.1.2-4..6],
    /// MQTT 5.0 §3.1.2.4): with `clean_start`, any stored session is discarded and a new
    /// one begins (present: false); without, a stored, unexpired session is resumed
    /// (present: true) with the new expiry interval, or a new one begins.
    ///
    /// # Errors
    /// a validation error for an invalid client id; a storage error from backends.
    fn create_session(
        &self,
        client_id: &str,
        clean_start: bool,
        expiry_interval: u32,
        protocol_version: ProtocolVersion,
    ) -> Result<(Session, bool), Error>;

    /// The stored session of a client.
    ///
    /// # Errors
    /// a storage error from backends.
    fn get_session(&self, client_id: &str) -> Result<Option<Session>, Error>;

    /// Stores a session, replacing the client's previous one.
    ///
    /// # Errors
    /// a storage error from backends.
    fn save_session(&self, session: &Session) -> Result<(), Error>;

    /// Deletes a client's session and Will; whether there was a session.
    ///
    /// # Errors
    /// a storage error from backends.
    fn delete_session(&self, client_id: &str) -> Result<bool, Error>;

    /// Sets the client's Will, replacing any other.
    ///
    /// # Errors
    /// a storage error from backends.
    fn set_will(&self, client_id: &str, will: Will) -> Result<(), Error>;

    /// The client's Will.
    ///
    /// # Errors
    /// a storage error from backends.
    fn get_will(&self, client_id: &str) -> Result<Option<Will>, Error>;

    /// Removes the client's Will (a normal DISCONNECT); returns it.
    ///
    /// # Errors
    /// a storage error from backends.
    fn clear_will(&self, client_id: &str) -> Result<Option<Will>, Error>;

    /// The client identifiers of every stored session, sorted: what a broker that
    /// restarts over a persistent store takes up again.
    ///
    /// # Errors
    /// a storage error from backends.
    fn client_ids(&self) -> Result<Vec<String>, Error>;
}

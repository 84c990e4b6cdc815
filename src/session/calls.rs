//! [`SessionCall`]: a session store's method call, as a value, so that a batch of them can
//! be handed to a store at once ([`AsyncSessionInterface::persist`]).
//!
//! [`AsyncSessionInterface::persist`]: super::AsyncSessionInterface::persist

use super::Session;
use crate::message::Will;

/// A session-store method call that stores one of the router's facts
/// (the router's `Fact::session_call`).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SessionCall {
    /// `save_session`.
    SaveSession(Session),
    /// `set_will`.
    SetWill(String, Will),
    /// `clear_will`.
    ClearWill(String),
    /// `delete_session` (its Will goes with it).
    DeleteSession(String),
}

//! Which of the router's facts a session store keeps, and how: [`SessionCall`].
//!
//! The storage's share is the storage module's (`storage_call`, and
//! `StorageInterface::persist`); a session store's is here, as the session module cannot
//! name the router's facts (they hold its sessions): a store takes them as
//! [`SessionCall`]s ([`AsyncSessionInterface::persist`]).

use crate::error::Error;
use crate::session::{AsyncSessionInterface, SessionInterface};

use super::Fact;

pub use crate::session::SessionCall;

impl Fact {
    /// The session-store call that stores this fact; None for the storage's facts.
    pub fn session_call(&self) -> Option<SessionCall> {
        Some(match self {
            Self::Session { session } => SessionCall::SaveSession(session.clone()),
            Self::Will {
                client_id,
                will: Some(will),
            } => SessionCall::SetWill(client_id.clone(), will.clone()),
            Self::Will {
                client_id,
                will: None,
            } => SessionCall::ClearWill(client_id.clone()),
            Self::SessionEnded { client_id } => SessionCall::DeleteSession(client_id.clone()),
            _ => return None,
        })
    }
}

/// Stores the facts that concern a session store (sessions, Wills, ends of sessions), in
/// order, through its methods.
///
/// # Errors
/// The store's error.
pub fn persist_sessions<S: SessionInterface + ?Sized>(
    store: &S,
    facts: &[Fact],
) -> Result<(), Error> {
    for call in facts.iter().filter_map(Fact::session_call) {
        match call {
            SessionCall::SaveSession(session) => store.save_session(&session)?,
            SessionCall::SetWill(client_id, will) => store.set_will(&client_id, will)?,
            SessionCall::ClearWill(client_id) => drop(store.clear_will(&client_id)?),
            SessionCall::DeleteSession(client_id) => {
                store.delete_session(&client_id)?;
            }
        }
    }
    Ok(())
}

/// [`persist_sessions`] for an asynchronous store: its
/// [`persist`](AsyncSessionInterface::persist) of the facts' calls, in order.
///
/// # Errors
/// The store's error.
pub async fn persist_sessions_async<S: AsyncSessionInterface + ?Sized>(
    store: &S,
    facts: &[Fact],
) -> Result<(), Error> {
    let calls: Vec<SessionCall> = facts.iter().filter_map(Fact::session_call).collect();
    if calls.is_empty() {
        return Ok(());
    }
    store.persist(&calls).await
}

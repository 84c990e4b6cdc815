//! [`MemorySessionStore`]: the reference [`SessionInterface`], in memory and thread-safe.

use std::collections::HashMap;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::SystemTime;

use crate::constants::ProtocolVersion;
use crate::error::Error;
use crate::message::Will;
use crate::session::{Session, SessionInterface};

#[derive(Debug, Default)]
struct Stored {
    session: Option<Session>,
    will: Option<Will>,
}

/// Sessions and Wills by client identifier, behind one lock, with an expiry sweep.
///
/// # Examples
/// ```
/// use mqtt_common::{MemorySessionStore, ProtocolVersion, SessionInterface};
/// let store = MemorySessionStore::new();
/// let (session, present) = store.create_session("c1", false, 3600, ProtocolVersion::V5)?;
/// assert!(!present);
/// store.save_session(&session)?;
/// let (_, present) = store.create_session("c1", false, 3600, ProtocolVersion::V5)?;
/// assert!(present, "resumed [MQTT-3.1.2-5]");
/// let (_, present) = store.create_session("c1", true, 0, ProtocolVersion::V5)?;
/// assert!(!present, "clean start discards it [MQTT-3.1.2-4]");
/// # Ok::<(), mqtt_common::Error>(())
/// ```
#[derive(Debug, Default)]
pub struct MemorySessionStore {
    inner: RwLock<HashMap<String, Stored>>,
}

impl MemorySessionStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many sessions are stored.
    ///
    /// # Errors
    /// a storage error if the lock was poisoned.
    pub fn len(&self) -> Result<usize, Error> {
        Ok(self
            .read()?
            .values()
            .filter(|s| s.session.is_some())
            .count())
    }

    /// Whether no session is stored.
    ///
    /// # Errors
    /// a storage error if the lock was poisoned.
    pub fn is_empty(&self) -> Result<bool, Error> {
        Ok(self.len()? == 0)
    }

    /// Removes the sessions that have expired by `now` (with their Wills, which the
    /// caller should have taken with [`take_due_wills`](Self::take_due_wills) first);
    /// returns their client identifiers.
    ///
    /// # Errors
    /// a storage error if the lock was poisoned.
    pub fn expire_sessions(&self, now: SystemTime) -> Result<Vec<String>, Error> {
        let mut inner = self.write()?;
        let expired: Vec<String> = inner
            .iter()
            .filter(|(_, stored)| stored.session.as_ref().is_some_and(|s| s.is_expired(now)))
            .map(|(client_id, _)| client_id.clone())
            .collect();
        for client_id in &expired {
            inner.remove(client_id);
        }
        Ok(expired)
    }

    /// Removes and returns the Wills that are due by `now`: those of disconnected
    /// sessions whose Will Delay Interval, or whose session expiry if earlier, has passed
    /// (CVE-2019-11778).
    ///
    /// # Errors
    /// a storage error if the lock was poisoned.
    pub fn take_due_wills(&self, now: SystemTime) -> Result<Vec<(String, Will)>, Error> {
        let mut inner = self.write()?;
        let mut due = Vec::new();
        for (client_id, stored) in inner.iter_mut() {
            let Some(session) = &stored.session else {
                continue;
            };
            let Some(disconnected_at) = session.disconnected_at() else {
                continue;
            };
            let is_due = stored
                .will
                .as_ref()
                .is_some_and(|w| w.due_at(disconnected_at, session.expiry_interval()) <= now);
            if is_due && let Some(will) = stored.will.take() {
                due.push((client_id.clone(), will));
            }
        }
        Ok(due)
    }

    /// Takes everything `other` holds in place of what this store holds (a store whose
    /// database refused a write reloads what it has).
    #[cfg(feature = "sqlite")]
    pub(crate) fn replace_contents(&self, other: Self) -> Result<(), Error> {
        let fresh = other.inner.into_inner().map_err(|_| poisoned())?;
        *self.write()? = fresh;
        Ok(())
    }

    fn read(&self) -> Result<RwLockReadGuard<'_, HashMap<String, Stored>>, Error> {
        self.inner.read().map_err(|_| poisoned())
    }

    fn write(&self) -> Result<RwLockWriteGuard<'_, HashMap<String, Stored>>, Error> {
        self.inner.write().map_err(|_| poisoned())
    }
}

fn poisoned() -> Error {
    Error::storage("a thread panicked while holding the session store lock")
}

impl SessionInterface for MemorySessionStore {
    fn create_session(
        &self,
        client_id: &str,
        clean_start: bool,
        expiry_interval: u32,
        protocol_version: ProtocolVersion,
    ) -> Result<(Session, bool), Error> {
        // Checked before the lock: a refused client id changes nothing.
        Session::valid_client_id(client_id)?;
        let mut inner = self.write()?;
        let stored = inner.entry(client_id.to_owned()).or_default();
        // A new connection cancels a Will still waiting from the last one [MQTT-3.1.3-9].
        stored.will = None;
        let (session, present) = Session::for_connect(
            stored.session.take(),
            client_id,
            clean_start,
            expiry_interval,
            protocol_version,
            SystemTime::now(),
        )?;
        stored.session = Some(session.clone());
        Ok((session, present))
    }

    fn get_session(&self, client_id: &str) -> Result<Option<Session>, Error> {
        Ok(self.read()?.get(client_id).and_then(|s| s.session.clone()))
    }

    fn save_session(&self, session: &Session) -> Result<(), Error> {
        let mut inner = self.write()?;
        inner
            .entry(session.client_id().to_owned())
            .or_default()
            .session = Some(session.clone());
        Ok(())
    }

    fn delete_session(&self, client_id: &str) -> Result<bool, Error> {
        Ok(self
            .write()?
            .remove(client_id)
            .is_some_and(|stored| stored.session.is_some()))
    }

    fn set_will(&self, client_id: &str, will: Will) -> Result<(), Error> {
        self.write()?.entry(client_id.to_owned()).or_default().will = Some(will);
        Ok(())
    }

    fn get_will(&self, client_id: &str) -> Result<Option<Will>, Error> {
        Ok(self.read()?.get(client_id).and_then(|s| s.will.clone()))
    }

    fn clear_will(&self, client_id: &str) -> Result<Option<Will>, Error> {
        let mut inner = self.write()?;
        let Some(stored) = inner.get_mut(client_id) else {
            return Ok(None);
        };
        let will = stored.will.take();
        if stored.session.is_none() {
            inner.remove(client_id);
        }
        Ok(will)
    }

    fn client_ids(&self) -> Result<Vec<String>, Error> {
        let mut ids: Vec<String> = self
            .read()?
            .iter()
            .filter(|(_, stored)| stored.session.is_some())
            .map(|(client_id, _)| client_id.clone())
            .collect();
        ids.sort_unstable();
        Ok(ids)
    }
}

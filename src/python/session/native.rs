//! What every Python session store class over a Rust store shares: its methods, written
//! once ([`session_store_methods!`]), and whether a call waits for the disk (then the GIL
//! is released while it does).

use std::sync::Arc;

use pyo3::prelude::*;

use crate::session::SessionInterface;

/// A Python class whose behaviour is a Rust session store's.
pub(crate) trait NativeSessionStore {
    /// The Rust store.
    type Core: SessionInterface + 'static;
    /// Whether its writes wait for a commit to the disk.
    const WAITS_FOR_DISK: bool;
    /// The Rust store behind this object.
    fn core(&self) -> &Arc<Self::Core>;
}

/// Runs a write on the Rust store, without the GIL if it waits for the disk.
pub(crate) fn write<S, R>(py: Python<'_>, store: &S, call: impl FnOnce(&S::Core) -> R + Send) -> R
where
    S: NativeSessionStore,
    S::Core: Sync,
    R: Send,
{
    let core = store.core();
    if S::WAITS_FOR_DISK {
        py.detach(|| call(core))
    } else {
        call(core)
    }
}

/// The `#[pymethods]` of a session store class over a Rust store (a
/// [`NativeSessionStore`] whose core has `len`, `client_ids`, `expire_sessions` and
/// `take_due_wills` as [`MemorySessionStore`](crate::MemorySessionStore) has): the
/// class's own items, then every `SessionInterface` method and the sweeps.
macro_rules! session_store_methods {
    ($class:ty { $($own:tt)* }) => {
        #[pymethods]
        impl $class {
            $($own)*

            /// Return the session for a CONNECT and whether one was present (resumed).
            #[pyo3(signature = (client_id, clean_start, expiry_interval=0, protocol_version=4))]
            fn create_session(
                &self,
                py: Python<'_>,
                client_id: &Bound<'_, PyAny>,
                clean_start: &Bound<'_, PyAny>,
                #[pyo3(from_py_with = $crate::python::convert::int::<$crate::python::convert::ExpiryInterval>)]
                expiry_interval: i128,
                #[pyo3(from_py_with = $crate::python::convert::int::<$crate::python::convert::ProtocolVersionArg>)]
                protocol_version: i128,
            ) -> PyResult<($crate::python::session::PySession, bool)> {
                let client_id = $crate::python::convert::client_id(client_id)?;
                let clean_start = $crate::python::convert::extract_bool("clean_start", clean_start)?;
                let expiry_interval = $crate::python::convert::int_value("expiry_interval", expiry_interval)?;
                let protocol_version = $crate::python::convert::int_value::<$crate::constants::ProtocolVersion>(
                    "protocol_version",
                    protocol_version,
                )?;
                let (session, present) = $crate::python::session::native::write(py, self, |s| {
                    s.create_session(client_id, clean_start, expiry_interval, protocol_version)
                })?;
                Ok(($crate::python::session::PySession::from(session), present))
            }

            /// Return the stored session of a client, or None.
            fn get_session(
                &self,
                client_id: &Bound<'_, PyAny>,
            ) -> PyResult<Option<$crate::python::session::PySession>> {
                Ok(self
                    .core()
                    .get_session($crate::python::convert::client_id(client_id)?)?
                    .map($crate::python::session::PySession::from))
            }

            /// Store a session, replacing the client's previous one.
            fn save_session(&self, py: Python<'_>, session: &Bound<'_, PyAny>) -> PyResult<()> {
                let session = $crate::python::session::PySession::core_of("session", session)?;
                Ok($crate::python::session::native::write(py, self, |s| s.save_session(&session))?)
            }

            /// Delete a client's session and Will; return whether there was a session.
            fn delete_session(&self, py: Python<'_>, client_id: &Bound<'_, PyAny>) -> PyResult<bool> {
                let client_id = $crate::python::convert::client_id(client_id)?;
                Ok($crate::python::session::native::write(py, self, |s| s.delete_session(client_id))?)
            }

            /// Set the client's Will.
            fn set_will(
                &self,
                py: Python<'_>,
                client_id: &Bound<'_, PyAny>,
                will: &Bound<'_, PyAny>,
            ) -> PyResult<()> {
                let will = $crate::python::message::PyWill::core_of("will", will)?;
                let client_id = $crate::python::convert::client_id(client_id)?;
                Ok($crate::python::session::native::write(py, self, |s| s.set_will(client_id, will))?)
            }

            /// Return the client's Will, or None.
            fn get_will(
                &self,
                py: Python<'_>,
                client_id: &Bound<'_, PyAny>,
            ) -> PyResult<Option<$crate::python::message::PyWill>> {
                self.core()
                    .get_will($crate::python::convert::client_id(client_id)?)?
                    .map(|will| $crate::python::message::PyWill::from_core(py, will))
                    .transpose()
            }

            /// Remove the client's Will (a normal DISCONNECT); return it, or None.
            fn clear_will(
                &self,
                py: Python<'_>,
                client_id: &Bound<'_, PyAny>,
            ) -> PyResult<Option<$crate::python::message::PyWill>> {
                let client_id = $crate::python::convert::client_id(client_id)?;
                $crate::python::session::native::write(py, self, |s| s.clear_will(client_id))?
                    .map(|will| $crate::python::message::PyWill::from_core(py, will))
                    .transpose()
            }

            /// Remove the sessions expired by `now` (default: now); return their client ids.
            #[pyo3(signature = (now=None))]
            fn expire_sessions(
                &self,
                py: Python<'_>,
                now: Option<&Bound<'_, PyAny>>,
            ) -> PyResult<Vec<String>> {
                let now = $crate::python::session::instant("now", now)?;
                Ok($crate::python::session::native::write(py, self, |s| s.expire_sessions(now))?)
            }

            /// Remove and return the Wills due by `now` (default: now), as (client id, Will).
            #[pyo3(signature = (now=None))]
            fn take_due_wills(
                &self,
                py: Python<'_>,
                now: Option<&Bound<'_, PyAny>>,
            ) -> PyResult<Vec<(String, $crate::python::message::PyWill)>> {
                let now = $crate::python::session::instant("now", now)?;
                $crate::python::session::native::write(py, self, |s| s.take_due_wills(now))?
                    .into_iter()
                    .map(|(client, will)| Ok((client, $crate::python::message::PyWill::from_core(py, will)?)))
                    .collect()
            }

            /// Return the client ids of every stored session, sorted.
            fn client_ids(&self) -> PyResult<Vec<String>> {
                Ok(self.core().client_ids()?)
            }

            fn __len__(&self) -> PyResult<usize> {
                Ok(self.core().len()?)
            }
        }
    };
}

pub(crate) use session_store_methods;

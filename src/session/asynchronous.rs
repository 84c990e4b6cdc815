//! [`AsyncSessionInterface`]: [`SessionInterface`]'s methods as futures, and the
//! adapters of synchronous session stores.

#[cfg(feature = "blocking")]
use crate::asynchronous::Blocking;
use crate::asynchronous::{BoxFuture, Inline, ready};
use crate::constants::ProtocolVersion;
use crate::error::Error;
use crate::message::Will;

use super::{Session, SessionCall, SessionInterface};

/// A session store for an asynchronous broker: [`SessionInterface`]'s methods and rules,
/// each returning a `Send` future ([`crate::asynchronous`]).
///
/// Any [`SessionInterface`] becomes one through [`Inline`] or
/// [`Blocking`](crate::asynchronous::Blocking).
pub trait AsyncSessionInterface: Send + Sync {
    /// [`SessionInterface::create_session`].
    fn create_session<'a>(
        &'a self,
        client_id: &'a str,
        clean_start: bool,
        expiry_interval: u32,
        protocol_version: ProtocolVersion,
    ) -> BoxFuture<'a, Result<(Session, bool), Error>>;

    /// [`SessionInterface::get_session`].
    fn get_session<'a>(
        &'a self,
        client_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Session>, Error>>;

    /// [`SessionInterface::save_session`].
    fn save_session<'a>(&'a self, session: &'a Session) -> BoxFuture<'a, Result<(), Error>>;

    /// [`SessionInterface::delete_session`].
    fn delete_session<'a>(&'a self, client_id: &'a str) -> BoxFuture<'a, Result<bool, Error>>;

    /// [`SessionInterface::set_will`].
    fn set_will<'a>(&'a self, client_id: &'a str, will: Will) -> BoxFuture<'a, Result<(), Error>>;

    /// [`SessionInterface::get_will`].
    fn get_will<'a>(&'a self, client_id: &'a str) -> BoxFuture<'a, Result<Option<Will>, Error>>;

    /// [`SessionInterface::clear_will`].
    fn clear_will<'a>(&'a self, client_id: &'a str) -> BoxFuture<'a, Result<Option<Will>, Error>>;

    /// [`SessionInterface::client_ids`].
    fn client_ids(&self) -> BoxFuture<'_, Result<Vec<String>, Error>>;

    /// Makes these calls, in order: the router's session facts (sessions, Wills, the end
    /// of sessions; the router's `Fact::session_call` and `persist_sessions_async` make
    /// them). By default through the store's own methods,
    /// one after another; a store that can send them together (one round trip, one
    /// transaction) should.
    fn persist<'a>(&'a self, calls: &'a [SessionCall]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            for call in calls {
                match call {
                    SessionCall::SaveSession(session) => self.save_session(session).await?,
                    SessionCall::SetWill(client_id, will) => {
                        self.set_will(client_id, will.clone()).await?;
                    }
                    SessionCall::ClearWill(client_id) => drop(self.clear_will(client_id).await?),
                    SessionCall::DeleteSession(client_id) => {
                        self.delete_session(client_id).await?;
                    }
                }
            }
            Ok(())
        })
    }
}

impl<T: SessionInterface> AsyncSessionInterface for Inline<T> {
    fn create_session<'a>(
        &'a self,
        client_id: &'a str,
        clean_start: bool,
        expiry_interval: u32,
        protocol_version: ProtocolVersion,
    ) -> BoxFuture<'a, Result<(Session, bool), Error>> {
        ready(self.get_ref().create_session(
            client_id,
            clean_start,
            expiry_interval,
            protocol_version,
        ))
    }

    fn get_session<'a>(
        &'a self,
        client_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Session>, Error>> {
        ready(self.get_ref().get_session(client_id))
    }

    fn save_session<'a>(&'a self, session: &'a Session) -> BoxFuture<'a, Result<(), Error>> {
        ready(self.get_ref().save_session(session))
    }

    fn delete_session<'a>(&'a self, client_id: &'a str) -> BoxFuture<'a, Result<bool, Error>> {
        ready(self.get_ref().delete_session(client_id))
    }

    fn set_will<'a>(&'a self, client_id: &'a str, will: Will) -> BoxFuture<'a, Result<(), Error>> {
        ready(self.get_ref().set_will(client_id, will))
    }

    fn get_will<'a>(&'a self, client_id: &'a str) -> BoxFuture<'a, Result<Option<Will>, Error>> {
        ready(self.get_ref().get_will(client_id))
    }

    fn clear_will<'a>(&'a self, client_id: &'a str) -> BoxFuture<'a, Result<Option<Will>, Error>> {
        ready(self.get_ref().clear_will(client_id))
    }

    fn client_ids(&self) -> BoxFuture<'_, Result<Vec<String>, Error>> {
        ready(self.get_ref().client_ids())
    }
}

#[cfg(feature = "blocking")]
impl<T: SessionInterface + 'static> AsyncSessionInterface for Blocking<T> {
    fn create_session<'a>(
        &'a self,
        client_id: &'a str,
        clean_start: bool,
        expiry_interval: u32,
        protocol_version: ProtocolVersion,
    ) -> BoxFuture<'a, Result<(Session, bool), Error>> {
        let client_id = client_id.to_owned();
        self.run(move |store| {
            store.create_session(&client_id, clean_start, expiry_interval, protocol_version)
        })
    }

    fn get_session<'a>(
        &'a self,
        client_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Session>, Error>> {
        let client_id = client_id.to_owned();
        self.run(move |store| store.get_session(&client_id))
    }

    fn save_session<'a>(&'a self, session: &'a Session) -> BoxFuture<'a, Result<(), Error>> {
        let session = session.clone();
        self.run(move |store| store.save_session(&session))
    }

    fn delete_session<'a>(&'a self, client_id: &'a str) -> BoxFuture<'a, Result<bool, Error>> {
        let client_id = client_id.to_owned();
        self.run(move |store| store.delete_session(&client_id))
    }

    fn set_will<'a>(&'a self, client_id: &'a str, will: Will) -> BoxFuture<'a, Result<(), Error>> {
        let client_id = client_id.to_owned();
        self.run(move |store| store.set_will(&client_id, will))
    }

    fn get_will<'a>(&'a self, client_id: &'a str) -> BoxFuture<'a, Result<Option<Will>, Error>> {
        let client_id = client_id.to_owned();
        self.run(move |store| store.get_will(&client_id))
    }

    fn clear_will<'a>(&'a self, client_id: &'a str) -> BoxFuture<'a, Result<Option<Will>, Error>> {
        let client_id = client_id.to_owned();
        self.run(move |store| store.clear_will(&client_id))
    }

    fn client_ids(&self) -> BoxFuture<'_, Result<Vec<String>, Error>> {
        self.run(|store| store.client_ids())
    }
}

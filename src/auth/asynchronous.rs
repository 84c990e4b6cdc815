//! [`AsyncAuthInterface`]: [`AuthInterface`]'s methods as futures, and the adapters of
//! synchronous providers.

#[cfg(feature = "blocking")]
use crate::asynchronous::Blocking;
use crate::asynchronous::{BoxFuture, Inline, ready};
use crate::error::Error;

use super::{Action, AuthCredentials, AuthInterface};

/// An authentication and authorization provider for an asynchronous broker:
/// [`AuthInterface`]'s methods and rules, each returning a `Send` future
/// ([`crate::asynchronous`]).
///
/// For providers that ask a service over the network; any [`AuthInterface`] becomes one
/// through [`Inline`] or [`Blocking`](crate::asynchronous::Blocking) (a password file's
/// hashes take milliseconds: [`Blocking`](crate::asynchronous::Blocking)).
pub trait AsyncAuthInterface: Send + Sync {
    /// [`AuthInterface::authenticate`].
    fn authenticate<'a>(
        &'a self,
        credentials: &'a AuthCredentials,
    ) -> BoxFuture<'a, Result<bool, Error>>;

    /// [`AuthInterface::authorize`].
    fn authorize<'a>(
        &'a self,
        credentials: &'a AuthCredentials,
        topic: &'a str,
        action: Action,
    ) -> BoxFuture<'a, Result<bool, Error>>;

    /// [`AuthInterface::knows`]: by default a provider knows every client.
    fn knows<'a>(&'a self, credentials: &'a AuthCredentials) -> BoxFuture<'a, Result<bool, Error>> {
        let _ = credentials;
        ready(Ok(true))
    }
}

impl<T: AuthInterface> AsyncAuthInterface for Inline<T> {
    fn authenticate<'a>(
        &'a self,
        credentials: &'a AuthCredentials,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        ready(self.get_ref().authenticate(credentials))
    }

    fn authorize<'a>(
        &'a self,
        credentials: &'a AuthCredentials,
        topic: &'a str,
        action: Action,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        ready(self.get_ref().authorize(credentials, topic, action))
    }

    fn knows<'a>(&'a self, credentials: &'a AuthCredentials) -> BoxFuture<'a, Result<bool, Error>> {
        ready(self.get_ref().knows(credentials))
    }
}

#[cfg(feature = "blocking")]
impl<T: AuthInterface + 'static> AsyncAuthInterface for Blocking<T> {
    fn authenticate<'a>(
        &'a self,
        credentials: &'a AuthCredentials,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        let credentials = credentials.clone();
        self.run(move |provider| provider.authenticate(&credentials))
    }

    fn authorize<'a>(
        &'a self,
        credentials: &'a AuthCredentials,
        topic: &'a str,
        action: Action,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        let (credentials, topic) = (credentials.clone(), topic.to_owned());
        self.run(move |provider| provider.authorize(&credentials, &topic, action))
    }

    fn knows<'a>(&'a self, credentials: &'a AuthCredentials) -> BoxFuture<'a, Result<bool, Error>> {
        let credentials = credentials.clone();
        self.run(move |provider| provider.knows(&credentials))
    }
}

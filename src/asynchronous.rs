//! The asynchronous interface family's machinery: boxed `Send` futures, and the adapters
//! that make any synchronous implementation an asynchronous one.
//!
//! `AsyncStorageInterface`, `AsyncSessionInterface` and `AsyncAuthInterface` have the
//! methods of their synchronous counterparts, each returning a [`BoxFuture`]: `Send`, usable from tokio
//! or any other executor, and needing no runtime of their own. They are object safe, so a
//! broker can hold an `Arc<dyn AsyncStorageInterface>`. An implementation writes
//! `Box::pin(async move { ... })` (or uses the `async-trait` crate, which produces
//! exactly these signatures).
//!
//! Any synchronous implementation becomes an asynchronous one in one call:
//!
//! * [`Inline`] calls it inside the future: for backends that return at once (the memory
//!   stores, an ACL lookup);
//! * [`Blocking`] (feature `blocking`) runs each call on a shared pool of threads (the
//!   `blocking` crate, which works under any executor), so that a backend that waits
//!   (SQLite's commit, a password hash) never holds an executor's thread.
//!
//! ```
//! use mqtt_common::asynchronous::Inline;
//! use mqtt_common::storage::AsyncStorageInterface;
//! use mqtt_common::{MemoryStorage, Message, TopicFilter, TopicName};
//!
//! # fn block_on<F: std::future::Future>(future: F) -> F::Output {
//! #     // Any executor: these futures are ready at once.
//! #     let waker = std::task::Waker::noop();
//! #     let mut context = std::task::Context::from_waker(&waker);
//! #     let mut future = std::pin::pin!(future);
//! #     loop {
//! #         if let std::task::Poll::Ready(value) = future.as_mut().poll(&mut context) {
//! #             return value;
//! #         }
//! #     }
//! # }
//! let storage: Box<dyn AsyncStorageInterface> = Box::new(Inline::new(MemoryStorage::new()));
//! block_on(async {
//!     storage.store_retained(Message::new(TopicName::new("a/b")?, "hi")?).await?;
//!     let found = storage.get_retained(&TopicFilter::new("a/#")?).await?;
//!     assert_eq!(found.len(), 1);
//!     Ok::<(), mqtt_common::Error>(())
//! })?;
//! # Ok::<(), mqtt_common::Error>(())
//! ```

use std::future::Future;
use std::pin::Pin;
#[cfg(feature = "blocking")]
use std::sync::Arc;

/// A boxed future that can move between threads: what the asynchronous interfaces'
/// methods return.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A future that is ready at once with `value`.
pub(crate) fn ready<'a, T: Send + 'a>(value: T) -> BoxFuture<'a, T> {
    Box::pin(std::future::ready(value))
}

/// A synchronous backend used as an asynchronous one, each call made inside its future.
///
/// For backends whose calls return at once; one that waits would hold the executor's
/// thread while it does (use [`Blocking`]).
#[derive(Debug, Clone, Default)]
pub struct Inline<T>(T);

impl<T> Inline<T> {
    /// Adapts `backend`.
    pub const fn new(backend: T) -> Self {
        Self(backend)
    }

    /// The adapted backend.
    pub const fn get_ref(&self) -> &T {
        &self.0
    }

    /// The adapted backend, given back.
    pub fn into_inner(self) -> T {
        self.0
    }
}

/// A synchronous backend used as an asynchronous one, each call made on a shared pool of
/// threads (feature `blocking`).
///
/// The pool is the `blocking` crate's: it grows with demand (up to 500 threads) and
/// shrinks when idle, and works under any executor. Arguments are copied into the call,
/// as it outlives the borrow of the caller's.
#[cfg(feature = "blocking")]
#[derive(Debug)]
pub struct Blocking<T>(Arc<T>);

#[cfg(feature = "blocking")]
impl<T> Clone for Blocking<T> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

#[cfg(feature = "blocking")]
impl<T: Send + Sync + 'static> Blocking<T> {
    /// Adapts `backend`.
    pub fn new(backend: T) -> Self {
        Self(Arc::new(backend))
    }

    /// Adapts a backend that is shared already.
    pub const fn from_arc(backend: Arc<T>) -> Self {
        Self(backend)
    }

    /// The adapted backend.
    pub fn get_ref(&self) -> &T {
        &self.0
    }

    /// Runs `call` with the backend on the pool; the future resolves to its result.
    pub(crate) fn run<R, F>(&self, call: F) -> BoxFuture<'static, R>
    where
        R: Send + 'static,
        F: FnOnce(&T) -> R + Send + 'static,
    {
        let backend = Arc::clone(&self.0);
        Box::pin(blocking::unblock(move || call(&backend)))
    }
}

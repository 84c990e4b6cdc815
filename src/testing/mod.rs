//! Contract kits (feature `testing`): every behaviour an interface promises, as checks any
//! implementation runs in its own tests, as `mqtt_common.testing` does for Python.
//!
//! The kits are written against the asynchronous family, so that one kit serves both:
//! a synchronous backend runs them through an adapter ([`Inline`] or `Blocking`), which
//! checks the adapter too. Each kit is an `async fn` that panics (as `assert!` does) with
//! the name of the check that failed; run it with the executor of your tests.
//!
//! ```
//! use mqtt_common::asynchronous::Inline;
//! use mqtt_common::testing::{session_contract, storage_contract};
//! use mqtt_common::{MemorySessionStore, MemoryStorage};
//!
//! # fn block_on<F: std::future::Future>(future: F) -> F::Output {
//! #     let waker = std::task::Waker::noop();
//! #     let mut context = std::task::Context::from_waker(&waker);
//! #     let mut future = std::pin::pin!(future);
//! #     loop {
//! #         if let std::task::Poll::Ready(value) = future.as_mut().poll(&mut context) {
//! #             return value;
//! #         }
//! #     }
//! # }
//! block_on(storage_contract(|| Inline::new(MemoryStorage::new())));
//! block_on(session_contract(|| Inline::new(MemorySessionStore::new())));
//! ```
//!
//! [`Inline`]: crate::asynchronous::Inline

mod auth;
mod session;
mod storage;

pub use auth::{AuthExamples, auth_contract};
pub use session::session_contract;
pub use storage::storage_contract;

use crate::message::Message;
use crate::topic::{TopicFilter, TopicName};

/// A topic name the kits use; they use only valid ones.
fn topic(text: &str) -> TopicName {
    TopicName::new(text).unwrap_or_else(|err| panic!("the kit's topic {text:?}: {err}"))
}

/// A topic filter the kits use; they use only valid ones.
fn filter(text: &str) -> TopicFilter {
    TopicFilter::new(text).unwrap_or_else(|err| panic!("the kit's filter {text:?}: {err}"))
}

/// A QoS 0 message on `topic` with a text payload.
fn message(topic_name: &str, payload: &str) -> Message {
    Message::new(topic(topic_name), payload.to_owned())
        .unwrap_or_else(|err| panic!("the kit's message: {err}"))
}

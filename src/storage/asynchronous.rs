//! [`AsyncStorageInterface`]: [`StorageInterface`]'s methods as futures, and the
//! adapters of synchronous storages.

use std::time::SystemTime;

#[cfg(feature = "blocking")]
use crate::asynchronous::Blocking;
use crate::asynchronous::{BoxFuture, Inline, ready};
use crate::error::Error;
use crate::message::Message;
use crate::router::{Fact, QueuedMessage};
use crate::topic::{Subscription, TopicFilter, TopicName};

use super::{StorageCall, StorageInterface, storage_call};

/// A storage backend for an asynchronous broker: [`StorageInterface`]'s methods and rules,
/// each returning a `Send` future ([`crate::asynchronous`]).
///
/// For backends that wait on the network or a disk; any [`StorageInterface`] becomes one
/// through [`Inline`] or [`Blocking`](crate::asynchronous::Blocking).
pub trait AsyncStorageInterface: Send + Sync {
    /// [`StorageInterface::store_retained`]: a retained message that arrives now.
    fn store_retained(&self, message: Message) -> BoxFuture<'_, Result<(), Error>> {
        self.store_retained_at(message, SystemTime::now())
    }

    /// [`StorageInterface::store_retained_at`].
    fn store_retained_at(
        &self,
        message: Message,
        arrived_at: SystemTime,
    ) -> BoxFuture<'_, Result<(), Error>>;

    /// [`StorageInterface::retained_messages`].
    fn retained_messages(&self) -> BoxFuture<'_, Result<Vec<(Message, SystemTime)>, Error>>;

    /// [`StorageInterface::get_retained`].
    fn get_retained<'a>(
        &'a self,
        topic_filter: &'a TopicFilter,
    ) -> BoxFuture<'a, Result<Vec<Message>, Error>>;

    /// [`StorageInterface::delete_retained`].
    fn delete_retained<'a>(&'a self, topic: &'a TopicName) -> BoxFuture<'a, Result<bool, Error>>;

    /// [`StorageInterface::enqueue`].
    fn enqueue<'a>(
        &'a self,
        client_id: &'a str,
        message: Message,
    ) -> BoxFuture<'a, Result<(), Error>>;

    /// [`StorageInterface::enqueue_entry`].
    fn enqueue_entry<'a>(
        &'a self,
        client_id: &'a str,
        entry: QueuedMessage,
    ) -> BoxFuture<'a, Result<(), Error>>;

    /// [`StorageInterface::remove_queued`].
    fn remove_queued<'a>(
        &'a self,
        client_id: &'a str,
        seq: u64,
    ) -> BoxFuture<'a, Result<bool, Error>>;

    /// [`StorageInterface::queued_messages`].
    fn queued_messages<'a>(
        &'a self,
        client_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<QueuedMessage>, Error>>;

    /// [`StorageInterface::persist`]: the router's facts for this storage, in order. By
    /// default through the storage's own methods, one after another.
    fn persist<'a>(&'a self, facts: &'a [Fact]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            for fact in facts {
                if let Some(call) = storage_call(fact) {
                    call_async(self, call).await?;
                }
            }
            Ok(())
        })
    }

    /// [`StorageInterface::dequeue`].
    fn dequeue<'a>(
        &'a self,
        client_id: &'a str,
        limit: Option<usize>,
    ) -> BoxFuture<'a, Result<Vec<Message>, Error>>;

    /// [`StorageInterface::queue_length`].
    fn queue_length<'a>(&'a self, client_id: &'a str) -> BoxFuture<'a, Result<usize, Error>>;

    /// [`StorageInterface::add_subscription`].
    fn add_subscription<'a>(
        &'a self,
        client_id: &'a str,
        subscription: Subscription,
    ) -> BoxFuture<'a, Result<bool, Error>>;

    /// [`StorageInterface::remove_subscription`].
    fn remove_subscription<'a>(
        &'a self,
        client_id: &'a str,
        topic_filter: &'a TopicFilter,
    ) -> BoxFuture<'a, Result<bool, Error>>;

    /// [`StorageInterface::get_subscriptions`].
    fn get_subscriptions<'a>(
        &'a self,
        client_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<Subscription>, Error>>;

    /// [`StorageInterface::get_subscribers`].
    fn get_subscribers<'a>(
        &'a self,
        topic: &'a TopicName,
    ) -> BoxFuture<'a, Result<Vec<(String, Subscription)>, Error>>;

    /// [`StorageInterface::close`].
    fn close(&self) -> BoxFuture<'_, Result<(), Error>>;
}

/// Makes one [`StorageCall`] through an asynchronous storage's own methods.
async fn call_async<S: AsyncStorageInterface + ?Sized>(
    storage: &S,
    call: StorageCall,
) -> Result<(), Error> {
    match call {
        StorageCall::StoreRetained(message, arrived_at) => {
            storage.store_retained_at(message, arrived_at).await
        }
        StorageCall::DeleteRetained(topic) => storage.delete_retained(&topic).await.map(drop),
        StorageCall::AddSubscription(client_id, subscription) => storage
            .add_subscription(&client_id, subscription)
            .await
            .map(drop),
        StorageCall::RemoveSubscription(client_id, topic_filter) => storage
            .remove_subscription(&client_id, &topic_filter)
            .await
            .map(drop),
        StorageCall::EnqueueEntry(client_id, entry) => {
            storage.enqueue_entry(&client_id, entry).await
        }
        StorageCall::RemoveQueued(client_id, seq) => {
            storage.remove_queued(&client_id, seq).await.map(drop)
        }
        StorageCall::ForgetClient(client_id) => {
            for subscription in storage.get_subscriptions(&client_id).await? {
                storage
                    .remove_subscription(&client_id, subscription.topic_filter())
                    .await?;
            }
            storage.dequeue(&client_id, None).await.map(drop)
        }
    }
}

impl<T: StorageInterface> AsyncStorageInterface for Inline<T> {
    fn store_retained_at(
        &self,
        message: Message,
        arrived_at: SystemTime,
    ) -> BoxFuture<'_, Result<(), Error>> {
        ready(self.get_ref().store_retained_at(message, arrived_at))
    }

    fn retained_messages(&self) -> BoxFuture<'_, Result<Vec<(Message, SystemTime)>, Error>> {
        ready(self.get_ref().retained_messages())
    }

    fn get_retained<'a>(
        &'a self,
        topic_filter: &'a TopicFilter,
    ) -> BoxFuture<'a, Result<Vec<Message>, Error>> {
        ready(self.get_ref().get_retained(topic_filter))
    }

    fn delete_retained<'a>(&'a self, topic: &'a TopicName) -> BoxFuture<'a, Result<bool, Error>> {
        ready(self.get_ref().delete_retained(topic))
    }

    fn enqueue<'a>(
        &'a self,
        client_id: &'a str,
        message: Message,
    ) -> BoxFuture<'a, Result<(), Error>> {
        ready(self.get_ref().enqueue(client_id, message))
    }

    fn enqueue_entry<'a>(
        &'a self,
        client_id: &'a str,
        entry: QueuedMessage,
    ) -> BoxFuture<'a, Result<(), Error>> {
        ready(self.get_ref().enqueue_entry(client_id, entry))
    }

    fn remove_queued<'a>(
        &'a self,
        client_id: &'a str,
        seq: u64,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        ready(self.get_ref().remove_queued(client_id, seq))
    }

    fn queued_messages<'a>(
        &'a self,
        client_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<QueuedMessage>, Error>> {
        ready(self.get_ref().queued_messages(client_id))
    }

    fn persist<'a>(&'a self, facts: &'a [Fact]) -> BoxFuture<'a, Result<(), Error>> {
        ready(self.get_ref().persist(facts))
    }

    fn dequeue<'a>(
        &'a self,
        client_id: &'a str,
        limit: Option<usize>,
    ) -> BoxFuture<'a, Result<Vec<Message>, Error>> {
        ready(self.get_ref().dequeue(client_id, limit))
    }

    fn queue_length<'a>(&'a self, client_id: &'a str) -> BoxFuture<'a, Result<usize, Error>> {
        ready(self.get_ref().queue_length(client_id))
    }

    fn add_subscription<'a>(
        &'a self,
        client_id: &'a str,
        subscription: Subscription,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        ready(self.get_ref().add_subscription(client_id, subscription))
    }

    fn remove_subscription<'a>(
        &'a self,
        client_id: &'a str,
        topic_filter: &'a TopicFilter,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        ready(self.get_ref().remove_subscription(client_id, topic_filter))
    }

    fn get_subscriptions<'a>(
        &'a self,
        client_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<Subscription>, Error>> {
        ready(self.get_ref().get_subscriptions(client_id))
    }

    fn get_subscribers<'a>(
        &'a self,
        topic: &'a TopicName,
    ) -> BoxFuture<'a, Result<Vec<(String, Subscription)>, Error>> {
        ready(self.get_ref().get_subscribers(topic))
    }

    fn close(&self) -> BoxFuture<'_, Result<(), Error>> {
        ready(self.get_ref().close())
    }
}

#[cfg(feature = "blocking")]
impl<T: StorageInterface + 'static> AsyncStorageInterface for Blocking<T> {
    fn store_retained_at(
        &self,
        message: Message,
        arrived_at: SystemTime,
    ) -> BoxFuture<'_, Result<(), Error>> {
        self.run(move |storage| storage.store_retained_at(message, arrived_at))
    }

    fn retained_messages(&self) -> BoxFuture<'_, Result<Vec<(Message, SystemTime)>, Error>> {
        self.run(StorageInterface::retained_messages)
    }

    fn get_retained<'a>(
        &'a self,
        topic_filter: &'a TopicFilter,
    ) -> BoxFuture<'a, Result<Vec<Message>, Error>> {
        let topic_filter = topic_filter.clone();
        self.run(move |storage| storage.get_retained(&topic_filter))
    }

    fn delete_retained<'a>(&'a self, topic: &'a TopicName) -> BoxFuture<'a, Result<bool, Error>> {
        let topic = topic.clone();
        self.run(move |storage| storage.delete_retained(&topic))
    }

    fn enqueue<'a>(
        &'a self,
        client_id: &'a str,
        message: Message,
    ) -> BoxFuture<'a, Result<(), Error>> {
        let client_id = client_id.to_owned();
        self.run(move |storage| storage.enqueue(&client_id, message))
    }

    fn enqueue_entry<'a>(
        &'a self,
        client_id: &'a str,
        entry: QueuedMessage,
    ) -> BoxFuture<'a, Result<(), Error>> {
        let client_id = client_id.to_owned();
        self.run(move |storage| storage.enqueue_entry(&client_id, entry))
    }

    fn remove_queued<'a>(
        &'a self,
        client_id: &'a str,
        seq: u64,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        let client_id = client_id.to_owned();
        self.run(move |storage| storage.remove_queued(&client_id, seq))
    }

    fn queued_messages<'a>(
        &'a self,
        client_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<QueuedMessage>, Error>> {
        let client_id = client_id.to_owned();
        self.run(move |storage| storage.queued_messages(&client_id))
    }

    fn persist<'a>(&'a self, facts: &'a [Fact]) -> BoxFuture<'a, Result<(), Error>> {
        let facts = facts.to_vec();
        self.run(move |storage| storage.persist(&facts))
    }

    fn dequeue<'a>(
        &'a self,
        client_id: &'a str,
        limit: Option<usize>,
    ) -> BoxFuture<'a, Result<Vec<Message>, Error>> {
        let client_id = client_id.to_owned();
        self.run(move |storage| storage.dequeue(&client_id, limit))
    }

    fn queue_length<'a>(&'a self, client_id: &'a str) -> BoxFuture<'a, Result<usize, Error>> {
        let client_id = client_id.to_owned();
        self.run(move |storage| storage.queue_length(&client_id))
    }

    fn add_subscription<'a>(
        &'a self,
        client_id: &'a str,
        subscription: Subscription,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        let client_id = client_id.to_owned();
        self.run(move |storage| storage.add_subscription(&client_id, subscription))
    }

    fn remove_subscription<'a>(
        &'a self,
        client_id: &'a str,
        topic_filter: &'a TopicFilter,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        let (client_id, topic_filter) = (client_id.to_owned(), topic_filter.clone());
        self.run(move |storage| storage.remove_subscription(&client_id, &topic_filter))
    }

    fn get_subscriptions<'a>(
        &'a self,
        client_id: &'a str,
    ) -> BoxFuture<'a, Result<Vec<Subscription>, Error>> {
        let client_id = client_id.to_owned();
        self.run(move |storage| storage.get_subscriptions(&client_id))
    }

    fn get_subscribers<'a>(
        &'a self,
        topic: &'a TopicName,
    ) -> BoxFuture<'a, Result<Vec<(String, Subscription)>, Error>> {
        let topic = topic.clone();
        self.run(move |storage| storage.get_subscribers(&topic))
    }

    fn close(&self) -> BoxFuture<'_, Result<(), Error>> {
        self.run(StorageInterface::close)
    }
}

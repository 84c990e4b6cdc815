//! [`RedisSessionStore`]: sessions (with their QoS flows both ways) and Wills in Redis.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::SystemTime;

use redis::{Value, cmd};

use super::records::{decode_session, decode_will, encode_session, encode_will};
use super::{Batch, Redis, RedisConfig};
use crate::asynchronous::BoxFuture;
use crate::constants::ProtocolVersion;
use crate::error::Error;
use crate::message::Will;
use crate::session::{AsyncSessionInterface, Session, SessionCall};

/// `MemorySessionStore`'s behaviour, kept in Redis (see the [module
/// documentation](super) for the key layout and what a returned call survives).
///
/// A session is one record (its state and both ways' QoS flows), written whole by each
/// save: one command, atomic on its own. Reads go to Redis.
#[derive(Debug)]
pub struct RedisSessionStore {
    redis: Redis,
    closed: AtomicBool,
}

impl RedisSessionStore {
    /// Connects and checks the key layout's version.
    ///
    /// # Errors
    /// A storage error naming the server if it cannot be reached or its keys under the
    /// prefix have another layout version.
    pub async fn open(redis: &RedisConfig) -> Result<Self, Error> {
        Ok(Self {
            redis: Redis::open(redis).await?,
            closed: AtomicBool::new(false),
        })
    }

    /// The server (its URL without the password).
    pub fn server(&self) -> &str {
        &self.redis.server
    }

    /// The client id of every stored session, sorted, read in pages.
    async fn read_client_ids(&self) -> Result<Vec<String>, Error> {
        let redis = self.open_or_closed()?;
        let members = redis
            .set_members(&self.clients_key(), "list the sessions")
            .await?;
        // A member whose session is gone (a write between the two keys was cut off) is
        // left out.
        let mut found = Vec::with_capacity(members.len());
        for page in members.chunks(100) {
            let mut batch = Batch::reads();
            for client_id in page {
                let key = self.session_key(client_id);
                batch.add(&key, std::mem::take(cmd("EXISTS").arg(&key)));
            }
            let present = redis.send(batch, "list the sessions").await?;
            found.extend(
                page.iter()
                    .zip(present)
                    .filter(|(_, present)| matches!(present, Value::Int(1)))
                    .map(|(client_id, _)| client_id.clone()),
            );
        }
        found.sort_unstable();
        Ok(found)
    }

    fn open_or_closed(&self) -> Result<&Redis, Error> {
        if self.closed.load(Ordering::Acquire) {
            return Err(Error::storage("the session store is closed"));
        }
        Ok(&self.redis)
    }

    fn clients_key(&self) -> String {
        self.redis.key("clients")
    }

    fn session_key(&self, client_id: &str) -> String {
        self.redis.client_key("session", client_id)
    }

    fn will_key(&self, client_id: &str) -> String {
        self.redis.client_key("will", client_id)
    }

    async fn read_session(&self, client_id: &str) -> Result<Option<Session>, Error> {
        let redis = self.open_or_closed()?;
        let record: Option<Vec<u8>> = redis
            .query(
                redis::cmd("GET").arg(self.session_key(client_id)),
                "read a session",
            )
            .await?;
        record
            .map(|record| decode_session(client_id, &record))
            .transpose()
    }

    /// Adds the commands that make `call` to `batch`.
    fn add_commands(&self, batch: &mut Batch, call: &SessionCall) -> Result<(), Error> {
        match call {
            SessionCall::SaveSession(session) => {
                let client_id = session.client_id();
                // The set first: a member without a session is skipped when listed; a
                // session whose client is not listed would not be restored.
                let clients = self.clients_key();
                batch.add(
                    &clients,
                    std::mem::take(cmd("SADD").arg(&clients).arg(client_id)),
                );
                let key = self.session_key(client_id);
                let record = encode_session(session)?;
                batch.add(&key, std::mem::take(cmd("SET").arg(&key).arg(record)));
            }
            SessionCall::SetWill(client_id, will) => {
                let key = self.will_key(client_id);
                batch.add(
                    &key,
                    std::mem::take(cmd("SET").arg(&key).arg(encode_will(will)?)),
                );
            }
            SessionCall::ClearWill(client_id) => {
                let key = self.will_key(client_id);
                batch.add(&key, std::mem::take(cmd("DEL").arg(&key)));
            }
            SessionCall::DeleteSession(client_id) => {
                // The session first: its answer says whether there was one.
                let key = self.session_key(client_id);
                batch.add(&key, std::mem::take(cmd("DEL").arg(&key)));
                let will = self.will_key(client_id);
                batch.add(&will, std::mem::take(cmd("DEL").arg(&will)));
                let clients = self.clients_key();
                batch.add(
                    &clients,
                    std::mem::take(cmd("SREM").arg(&clients).arg(client_id)),
                );
            }
        }
        Ok(())
    }

    /// Writes a session (and lists its client), with the Will cancelled if `cancel_will`.
    async fn write_session(&self, session: &Session, cancel_will: bool) -> Result<(), Error> {
        let redis = self.open_or_closed()?;
        let mut batch = Batch::writes();
        self.add_commands(&mut batch, &SessionCall::SaveSession(session.clone()))?;
        if cancel_will {
            let client_id = session.client_id().to_owned();
            self.add_commands(&mut batch, &SessionCall::ClearWill(client_id))?;
        }
        redis.send(batch, "store a session").await.map(drop)
    }
}

impl AsyncSessionInterface for RedisSessionStore {
    fn create_session<'a>(
        &'a self,
        client_id: &'a str,
        clean_start: bool,
        expiry_interval: u32,
        protocol_version: ProtocolVersion,
    ) -> BoxFuture<'a, Result<(Session, bool), Error>> {
        Box::pin(async move {
            Session::valid_client_id(client_id)?;
            let stored = self.read_session(client_id).await?;
            let (session, present) = Session::for_connect(
                stored,
                client_id,
                clean_start,
                expiry_interval,
                protocol_version,
                SystemTime::now(),
            )?;
            // A Will still waiting from the last connection is cancelled [MQTT-3.1.3-9].
            self.write_session(&session, true).await?;
            Ok((session, present))
        })
    }

    fn get_session<'a>(
        &'a self,
        client_id: &'a str,
    ) -> BoxFuture<'a, Result<Option<Session>, Error>> {
        Box::pin(self.read_session(client_id))
    }

    fn save_session<'a>(&'a self, session: &'a Session) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(self.write_session(session, false))
    }

    fn delete_session<'a>(&'a self, client_id: &'a str) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            let redis = self.open_or_closed()?;
            let mut batch = Batch::writes();
            self.add_commands(
                &mut batch,
                &SessionCall::DeleteSession(client_id.to_owned()),
            )?;
            let answers = redis.send(batch, "delete a session").await?;
            Ok(matches!(answers.first(), Some(Value::Int(n)) if *n > 0))
        })
    }

    fn set_will<'a>(&'a self, client_id: &'a str, will: Will) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let redis = self.open_or_closed()?;
            let key = self.will_key(client_id);
            let _: Value = redis
                .query(
                    redis::cmd("SET").arg(&key).arg(encode_will(&will)?),
                    "store a Will",
                )
                .await?;
            redis.replicated(&key).await
        })
    }

    fn get_will<'a>(&'a self, client_id: &'a str) -> BoxFuture<'a, Result<Option<Will>, Error>> {
        Box::pin(async move {
            let redis = self.open_or_closed()?;
            let record: Option<Vec<u8>> = redis
                .query(
                    redis::cmd("GET").arg(self.will_key(client_id)),
                    "read a Will",
                )
                .await?;
            let whose = format!("the Will of {client_id:?}");
            record.map(|r| decode_will(&r, &whose)).transpose()
        })
    }

    fn persist<'a>(&'a self, calls: &'a [SessionCall]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            let redis = self.open_or_closed()?;
            let mut batch = Batch::writes();
            for call in calls {
                self.add_commands(&mut batch, call)?;
            }
            if !batch.is_empty() {
                redis
                    .send(batch, "store the router's session facts")
                    .await?;
            }
            Ok(())
        })
    }

    fn clear_will<'a>(&'a self, client_id: &'a str) -> BoxFuture<'a, Result<Option<Will>, Error>> {
        Box::pin(async move {
            let redis = self.open_or_closed()?;
            let key = self.will_key(client_id);
            let record: Option<Vec<u8>> = redis
                .query(redis::cmd("GETDEL").arg(&key), "remove a Will")
                .await?;
            redis.replicated(&key).await?;
            let whose = format!("the Will of {client_id:?}");
            record.map(|r| decode_will(&r, &whose)).transpose()
        })
    }

    fn client_ids(&self) -> BoxFuture<'_, Result<Vec<String>, Error>> {
        Box::pin(self.read_client_ids())
    }
}

impl RedisSessionStore {
    /// Stops the store: later calls fail with a storage error. Every returned call was
    /// acknowledged by Redis: nothing waits to be written.
    pub fn close(&self) {
        self.closed.store(true, Ordering::Release);
    }
}

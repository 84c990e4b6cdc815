//! [`RedisNode`]: broker processes made one cluster through Redis (the `redis` module
//! documentation, "Clusters", says how).

use std::sync::{Arc, LazyLock};
use std::time::Duration;

use redis::{Script, Value, cmd};

use super::live::{LiveFeed, LiveWindow};
use super::streams::{
    ChangeLog, Inbox, InboxEntry, change_entry, decode_inbound, entries, forwards_entry, per_node,
};
use super::{Batch, Redis, RedisConfig};
use crate::error::Error;
use crate::router::{Change, Fact, Forward, check_node_id};
use crate::topic::TopicFilter;

/// Renews a node's lease in Redis' clock and names the nodes whose lease ended:
/// KEYS[1] the leases, ARGV[1] the node, ARGV[2] the lease in ms (0: leave), ARGV[3]
/// "join", "beat" or "leave". A beat of a node whose lease another node took answers
/// -1; a join while another node adopts it, -2. A lease is the time it ends, or
/// `adopted:<node>` while that node adopts it.
static HEARTBEAT: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local lease = tonumber(ARGV[2])
        local current = redis.call('HGET', KEYS[1], ARGV[1])
        local held = current and tonumber(current)
        if ARGV[3] == 'beat' and not held then return -1 end
        if ARGV[3] == 'join' and current and not held then return -2 end
        if lease > 0 then
            redis.call('HSET', KEYS[1], ARGV[1], now + lease)
        else
            redis.call('HDEL', KEYS[1], ARGV[1])
        end
        local ended = {}
        local all = redis.call('HGETALL', KEYS[1])
        for i = 1, #all, 2 do
            local ends = tonumber(all[i + 1])
            if ends and ends <= now then ended[#ended + 1] = all[i] end
        end
        return ended
        ",
    )
});

/// Marks the lease (KEYS[1], ARGV[1]) of a node that ended as adopted by ARGV[2], once:
/// 1 for the adopter (again, if it asks again), 0 for the others (or if the node
/// renewed its lease meanwhile).
static TAKE_LEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local current = redis.call('HGET', KEYS[1], ARGV[1])
        if not current then return 0 end
        if current == 'adopted:' .. ARGV[2] then return 1 end
        local ends = tonumber(current)
        if not ends or ends > now then return 0 end
        redis.call('HSET', KEYS[1], ARGV[1], 'adopted:' .. ARGV[2])
        return 1
        ",
    )
});

/// Gives a session (owner key KEYS[1]) to ARGV[2] if ARGV[1] still holds it: 1 if so.
const HAND_OVER: &str = "if redis.call('GET', KEYS[1]) == ARGV[1] then \
    redis.call('SET', KEYS[1], ARGV[2]) return 1 end return 0";

/// A node's lease (KEYS[1] the leases, ARGV[1] the node): 1 held, 0 ended (or being
/// adopted), -1 none at all.
static LEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local current = redis.call('HGET', KEYS[1], ARGV[1])
        if not current then return -1 end
        local ends = tonumber(current)
        if ends and ends > now then return 1 end
        return 0
        ",
    )
});

/// Where a node's lease stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lease {
    /// It has not ended: the node is alive.
    Held,
    /// It ended: the node is dead, and one of the others adopts it (or is adopting it).
    Ended,
    /// There is none: the node left, or was adopted and forgotten.
    None,
}

/// Deletes a session's owner if it is still ARGV[1] (KEYS[1] the owner key).
const DISOWN: &str =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end return 0";

/// How a node takes part.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NodeConfig {
    /// The node's identifier ([`check_node_id`]): stable across its restarts, so that
    /// it reads again what it had not finished.
    pub node_id: String,
    /// How long the node counts as alive after each heartbeat.
    pub lease: Duration,
    /// How long a read of the inbox or the log waits for something to arrive.
    pub block: Duration,
    /// The most inbox entries or changes one read returns.
    pub batch: usize,
}

impl NodeConfig {
    /// Node `node_id`, with a lease of 10 s, reads that wait 1 s for at most 1,000
    /// entries.
    pub fn new(node_id: impl Into<String>) -> Self {
        Self {
            node_id: node_id.into(),
            lease: Duration::from_secs(10),
            block: Duration::from_secs(1),
            batch: 1000,
        }
    }

    /// The same, with another lease.
    #[must_use]
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease;
        self
    }
}

/// One broker process's part in a cluster on Redis: see [the module](super), "Clusters".
#[derive(Debug, Clone)]
pub struct RedisNode {
    redis: Redis,
    node: String,
    lease: Duration,
    /// What this node sent other nodes live and they have not read yet.
    live: Arc<LiveWindow>,
}

/// What a node finds when it joins.
#[derive(Debug)]
#[non_exhaustive]
pub struct Joined {
    /// The node's part (heartbeats, sends).
    pub node: RedisNode,
    /// Every other node's topic filters, as they were when it joined: apply them to
    /// its router (as [`Change::Filter`]s) before the log's changes.
    pub filters: Vec<(String, TopicFilter)>,
    /// Its inbox, to read.
    pub inbox: Inbox,
    /// The change log from the point it joined, to read.
    pub changes: ChangeLog,
    /// The QoS 0 messages forwarded to it, to read.
    pub live: LiveFeed,
}

/// What [`RedisNode::adopt`] took over from a node whose lease ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Adopted {
    /// The node.
    pub node: String,
    /// The client ids of its sessions, this node's now.
    pub client_ids: Vec<String>,
    /// The withdrawal of its filters, to send once this node's are announced.
    pub filters: Vec<Change>,
}

/// What another node sent this one.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Inbound {
    /// Messages for this node's clients, in the order they were published.
    Forwards(Vec<Forward>),
    /// `node` takes a client's session over (the client connected there): end its
    /// connection here (0x8E), store what it leaves, let the session go
    /// ([`Router::release`](crate::router::Router::release)), then answer with
    /// [`RedisNode::released`].
    Release {
        /// The client.
        client_id: String,
        /// The node it connected to.
        node: String,
    },
    /// The node asked by [`RedisNode::ask_release`] has let the session go: its
    /// state in the stores is complete.
    Released {
        /// The client.
        client_id: String,
    },
}

impl RedisNode {
    /// Joins the cluster whose keys are under `config`'s prefix: takes a lease, makes
    /// its inbox's consumer group (keeping what a previous run of the node left
    /// unread), notes the change log's end, then reads the other nodes' filters.
    ///
    /// # Errors
    /// A state error for a node identifier [`check_node_id`] refuses; a storage error
    /// naming the server if Redis cannot be reached or refuses.
    pub async fn join(config: &RedisConfig, node: &NodeConfig) -> Result<Joined, Error> {
        check_node_id(&node.node_id)?;
        let redis = Redis::open(config).await?;
        // The reads wait on Redis: each on a connection of its own, given the time.
        let mut reading = config.clone();
        reading.response_timeout = config.response_timeout + node.block;
        let this = Self {
            node: node.node_id.clone(),
            lease: node.lease,
            redis,
            live: Arc::new(LiveWindow::default()),
        };
        this.beat("join").await?;
        let inbox_key = this.inbox_key(&this.node);
        let mut create = cmd("XGROUP");
        create
            .arg("CREATE")
            .arg(&inbox_key)
            .arg(&this.node)
            .arg("0")
            .arg("MKSTREAM");
        if let Err(err) = this
            .redis
            .query::<Value>(&create, "create the node's inbox")
            .await
            && !err.to_string().contains("BUSYGROUP")
        {
            return Err(err);
        }
        let changes_key = this.redis.key("changes");
        let mut last = cmd("XREVRANGE");
        last.arg(&changes_key).arg("+").arg("-").arg("COUNT").arg(1);
        let newest: Value = this
            .redis
            .query(&last, "find the end of the change log")
            .await?;
        let position = entries(&newest)
            .into_iter()
            .next()
            .map_or_else(|| "0-0".to_owned(), |(id, _)| id);
        let nodes: Vec<String> = this
            .redis
            .query(cmd("HKEYS").arg(this.redis.key("nodes")), "list the nodes")
            .await?;
        let mut filters = Vec::new();
        for other in nodes.into_iter().filter(|n| *n != this.node) {
            let key = this.filters_key(&other);
            for filter in this
                .redis
                .set_members(&key, "read a node's filters")
                .await?
            {
                if let Ok(filter) = TopicFilter::new(&filter) {
                    filters.push((other.clone(), filter));
                }
            }
        }
        let inbox = Inbox {
            redis: Redis::open(&reading).await?,
            key: inbox_key,
            group: this.node.clone(),
            batch: node.batch,
            block: node.block,
            backlog: true,
        };
        let changes = ChangeLog {
            redis: Redis::open(&reading).await?,
            key: changes_key,
            position,
            batch: node.batch,
            block: node.block,
        };
        let mut live = LiveFeed::new(config, &this.redis, &this.node, this.live.clone());
        live.connect().await?;
        Ok(Joined {
            node: this,
            filters,
            inbox,
            changes,
            live,
        })
    }

    /// This node's identifier.
    pub fn node_id(&self) -> &str {
        &self.node
    }

    /// Renews this node's lease; returns the other nodes whose lease has ended (see
    /// [`adopt`](Self::adopt)).
    ///
    /// # Errors
    /// A storage error if Redis does not answer; a state error if this node's lease
    /// ended and another node adopted its sessions meanwhile: the node must stop
    /// serving (its sessions are another's now) and join again as a new start.
    pub async fn heartbeat(&self) -> Result<Vec<String>, Error> {
        self.beat("beat").await
    }

    async fn beat(&self, mode: &str) -> Result<Vec<String>, Error> {
        let lease = if mode == "leave" {
            0
        } else {
            u64::try_from(self.lease.as_millis())
                .unwrap_or(u64::MAX)
                .max(1)
        };
        let key = self.redis.key("nodes");
        let mut invocation = HEARTBEAT.key(&key);
        invocation.arg(&self.node).arg(lease).arg(mode);
        let answer: Value = self
            .redis
            .script(&invocation, "renew the node's lease")
            .await?;
        if answer == Value::Int(-1) {
            return Err(Error::state(
                "heartbeat",
                format!(
                    "the lease of node {} ended and another node adopted its sessions",
                    self.node
                ),
            ));
        }
        if answer == Value::Int(-2) {
            return Err(Error::state(
                "join",
                format!(
                    "another node is adopting the sessions of node {} (its lease ended): \
                     join again in a moment",
                    self.node
                ),
            ));
        }
        let ended: Vec<String> =
            redis::from_redis_value(answer).map_err(|e| self.redis.unreadable("the leases", &e))?;
        Ok(ended.into_iter().filter(|n| *n != self.node).collect())
    }

    /// Adopts a node whose lease ended (named by [`heartbeat`](Self::heartbeat)), if no
    /// other node did first: its sessions become this node's (take them up from the
    /// stores, as at a restart, so that their due Wills are published, once), and its
    /// filters are returned, to withdraw ([`Change::Filter`] with `present: false`)
    /// once this node's own are announced. Then [`drain`](Self::drain) its inbox. None
    /// if another node adopts it (or it came back).
    ///
    /// # Errors
    /// A storage error if Redis does not answer.
    pub async fn adopt(&self, dead: &str) -> Result<Option<Adopted>, Error> {
        let key = self.redis.key("nodes");
        let mut take = TAKE_LEASE.key(&key);
        take.arg(dead).arg(&self.node);
        let won: i64 = self.redis.script(&take, "adopt a node").await?;
        if won != 1 {
            return Ok(None);
        }
        let theirs = self.sessions_key(dead);
        let listed = self
            .redis
            .set_members(&theirs, "list a node's sessions")
            .await?;
        let mut handing = Batch::writes();
        for client_id in &listed {
            let owner = self.owner_key(client_id);
            let mut hand = cmd("EVAL");
            hand.arg(HAND_OVER)
                .arg(1)
                .arg(&owner)
                .arg(dead)
                .arg(&self.node);
            handing.add(&owner, hand);
        }
        let answers = if handing.is_empty() {
            Vec::new()
        } else {
            self.redis.send(handing, "adopt a node's sessions").await?
        };
        let client_ids: Vec<String> = listed
            .into_iter()
            .zip(answers)
            .filter(|(_, answer)| *answer == Value::Int(1))
            .map(|(client_id, _)| client_id)
            .collect();
        let ours = self.sessions_key(&self.node);
        let mut listing = Batch::writes();
        for client_id in &client_ids {
            listing.add(&ours, std::mem::take(cmd("SADD").arg(&ours).arg(client_id)));
        }
        listing.add(&theirs, std::mem::take(cmd("DEL").arg(&theirs)));
        self.redis
            .send(listing, "list the adopted sessions")
            .await?;
        let filters_key = self.filters_key(dead);
        let filters = self
            .redis
            .set_members(&filters_key, "read a node's filters")
            .await?
            .iter()
            .filter_map(|f| TopicFilter::new(f).ok())
            .map(|filter| Change::Filter {
                node: dead.to_owned(),
                filter,
                present: false,
            })
            .collect();
        Ok(Some(Adopted {
            node: dead.to_owned(),
            client_ids,
            filters,
        }))
    }

    /// Up to `count` of the oldest entries of an adopted node's inbox (what it had not
    /// routed, and what is still sent to it until the others see its filters
    /// withdrawn): route them as this node's, then [`drained`](Self::drained).
    ///
    /// # Errors
    /// A storage error if Redis does not answer.
    pub async fn drain(&self, dead: &str, count: usize) -> Result<Vec<InboxEntry>, Error> {
        let key = self.inbox_key(dead);
        let mut range = cmd("XRANGE");
        range.arg(&key).arg("-").arg("+").arg("COUNT").arg(count);
        let reply: Value = self.redis.query(&range, "read an adopted inbox").await?;
        Ok(entries(&reply)
            .into_iter()
            .map(|(id, fields)| InboxEntry {
                id,
                item: decode_inbound(&self.node, &fields),
            })
            .collect())
    }

    /// Deletes entries of an adopted node's inbox that this node routed and stored.
    ///
    /// # Errors
    /// A storage error if Redis does not answer.
    pub async fn drained(&self, dead: &str, ids: &[String]) -> Result<(), Error> {
        if ids.is_empty() {
            return Ok(());
        }
        let key = self.inbox_key(dead);
        let mut delete = cmd("XDEL");
        delete.arg(&key).arg(ids);
        let mut batch = Batch::writes();
        batch.add(&key, delete);
        self.redis
            .send(batch, "drain an adopted inbox")
            .await
            .map(drop)
    }

    /// Forgets an adopted node (its lease, filters and inbox) once drained: a node
    /// that comes back with its name starts afresh.
    ///
    /// # Errors
    /// A storage error if Redis does not answer.
    pub async fn forget(&self, dead: &str) -> Result<(), Error> {
        let mut batch = Batch::writes();
        let filters = self.filters_key(dead);
        let inbox = self.inbox_key(dead);
        let leases = self.redis.key("nodes");
        batch
            .add(&filters, std::mem::take(cmd("DEL").arg(&filters)))
            .add(&inbox, std::mem::take(cmd("DEL").arg(&inbox)))
            .add(&leases, std::mem::take(cmd("HDEL").arg(&leases).arg(dead)));
        self.redis.send(batch, "forget a node").await.map(drop)
    }

    /// Announces every filter this node's clients hold, in place of what the node
    /// had announced before (a restart): `filters` from
    /// [`Router::node_filters`](crate::router::Router::node_filters) once its sessions
    /// are restored.
    ///
    /// # Errors
    /// A storage error if Redis does not take it.
    pub async fn announce_all(&self, filters: &[TopicFilter]) -> Result<(), Error> {
        let key = self.filters_key(&self.node);
        let had = self
            .redis
            .set_members(&key, "read the node's filters")
            .await?;
        let mut changes = Vec::new();
        for old in had {
            if !filters.iter().any(|f| f.as_str() == old)
                && let Ok(filter) = TopicFilter::new(&old)
            {
                changes.push(Change::Filter {
                    node: self.node.clone(),
                    filter,
                    present: false,
                });
            }
        }
        changes.extend(filters.iter().map(|filter| Change::Filter {
            node: self.node.clone(),
            filter: filter.clone(),
            present: true,
        }));
        self.send(&[], &changes, &[]).await
    }

    /// The client ids of the sessions this node holds (listed by [`send`](Self::send)):
    /// those to take up when it starts again.
    ///
    /// # Errors
    /// A storage error if Redis does not answer.
    pub async fn client_ids(&self) -> Result<Vec<String>, Error> {
        let key = self.sessions_key(&self.node);
        let listed = self
            .redis
            .set_members(&key, "list the node's sessions")
            .await?;
        let mut reads = Batch::reads();
        for client_id in &listed {
            let owner = self.owner_key(client_id);
            reads.add(&owner, std::mem::take(cmd("GET").arg(&owner)));
        }
        let owners = if reads.is_empty() {
            Vec::new()
        } else {
            self.redis.send(reads, "read the sessions' owners").await?
        };
        let mut own = Vec::new();
        let mut gone = Batch::writes();
        for (client_id, owner) in listed.into_iter().zip(owners) {
            let owner: Option<String> = redis::from_redis_value(owner).unwrap_or(None);
            if owner.as_deref() == Some(self.node.as_str()) {
                own.push(client_id);
            } else {
                gone.add(&key, std::mem::take(cmd("SREM").arg(&key).arg(&client_id)));
            }
        }
        if !gone.is_empty() {
            self.redis
                .send(gone, "drop the sessions other nodes took")
                .await?;
        }
        Ok(own)
    }

    /// Makes this node the holder of a client's session (the client connected here);
    /// returns the node that held it before, if another did. Claim a session another
    /// node holds ([`holder_of`](Self::holder_of)) only once it let it go: until then
    /// it is that node's, and if that node dies, the node that adopts it takes the
    /// session too (with what waits for it in the dead node's inbox).
    ///
    /// # Errors
    /// A storage error if Redis does not answer.
    pub async fn claim(&self, client_id: &str) -> Result<Option<String>, Error> {
        let key = self.owner_key(client_id);
        let mut set = cmd("SET");
        set.arg(&key).arg(&self.node).arg("GET");
        let before: Option<String> = self.redis.query(&set, "claim a session").await?;
        Ok(before.filter(|node| *node != self.node))
    }

    /// Asks `holder` to let a client's session go ([`Inbound::Release`]); its answer
    /// comes to this node's inbox ([`Inbound::Released`]).
    ///
    /// # Errors
    /// A storage error if Redis does not take it.
    pub async fn ask_release(&self, holder: &str, client_id: &str) -> Result<(), Error> {
        let key = self.inbox_key(holder);
        let mut add = cmd("XADD");
        add.arg(&key)
            .arg("*")
            .arg("k")
            .arg("release")
            .arg("c")
            .arg(client_id)
            .arg("n")
            .arg(&self.node);
        let mut batch = Batch::writes();
        batch.add(&key, add);
        self.redis.send(batch, "ask for a session").await.map(drop)
    }

    /// Tells `node` that this node let a client's session go, and stops listing it.
    ///
    /// # Errors
    /// A storage error if Redis does not take it.
    pub async fn released(&self, node: &str, client_id: &str) -> Result<(), Error> {
        let inbox = self.inbox_key(node);
        let sessions = self.sessions_key(&self.node);
        let mut add = cmd("XADD");
        add.arg(&inbox)
            .arg("*")
            .arg("k")
            .arg("released")
            .arg("c")
            .arg(client_id);
        let mut batch = Batch::writes();
        batch
            .add(
                &sessions,
                std::mem::take(cmd("SREM").arg(&sessions).arg(client_id)),
            )
            .add(&inbox, add);
        self.redis.send(batch, "let a session go").await.map(drop)
    }

    /// Whether `node` holds a lease that has not ended.
    ///
    /// # Errors
    /// A storage error if Redis does not answer.
    pub async fn is_alive(&self, node: &str) -> Result<bool, Error> {
        Ok(self.lease_of(node).await? == Lease::Held)
    }

    /// Where `node`'s lease stands.
    ///
    /// # Errors
    /// A storage error if Redis does not answer.
    pub async fn lease_of(&self, node: &str) -> Result<Lease, Error> {
        let key = self.redis.key("nodes");
        let mut invocation = LEASE.key(&key);
        invocation.arg(node);
        let state: i64 = self
            .redis
            .script(&invocation, "read a node's lease")
            .await?;
        Ok(match state {
            1 => Lease::Held,
            0 => Lease::Ended,
            _ => Lease::None,
        })
    }

    /// The node that holds a client's session, if another node does: ask it to let
    /// the session go ([`ask_release`](Self::ask_release)) before you
    /// [`claim`](Self::claim) it.
    ///
    /// # Errors
    /// A storage error if Redis does not answer.
    pub async fn holder_of(&self, client_id: &str) -> Result<Option<String>, Error> {
        let key = self.owner_key(client_id);
        let owner: Option<String> = self
            .redis
            .query(cmd("GET").arg(&key), "read a session's owner")
            .await?;
        Ok(owner.filter(|node| *node != self.node))
    }

    /// Sends messages to other nodes' inboxes and changes to the log, in order (one
    /// pipeline per slot), and lists the sessions that `facts` (the stores' facts of
    /// the same commit) begin or end as this node's. Done when Redis has them (and the
    /// replicas the config requires): the publication they come from may then be
    /// acknowledged.
    ///
    /// # Errors
    /// A storage error if Redis does not take them all (some may have been written).
    pub async fn send(
        &self,
        forwards: &[Forward],
        changes: &[Change],
        facts: &[Fact],
    ) -> Result<(), Error> {
        let mut batch = Batch::writes();
        let sessions = self.sessions_key(&self.node);
        for fact in facts {
            match fact {
                Fact::Session { session } => {
                    batch.add(
                        &sessions,
                        std::mem::take(cmd("SADD").arg(&sessions).arg(session.client_id())),
                    );
                }
                Fact::SessionEnded { client_id } => {
                    batch.add(
                        &sessions,
                        std::mem::take(cmd("SREM").arg(&sessions).arg(client_id)),
                    );
                    // Its owner goes too, unless another node took the client since.
                    let owner = self.owner_key(client_id);
                    let mut disown = cmd("EVAL");
                    disown.arg(DISOWN).arg(1).arg(&owner).arg(&self.node);
                    batch.add(&owner, disown);
                }
                _ => {}
            }
        }
        // One entry per node, its messages in order.
        for (node, to) in &per_node(forwards) {
            let key = self.inbox_key(node);
            batch.add(&key, forwards_entry(&key, to)?);
        }
        let log = self.redis.key("changes");
        for change in changes {
            if let Change::Filter {
                node,
                filter,
                present,
            } = change
                && *node == self.node
            {
                let key = self.filters_key(node);
                let verb = if *present { "SADD" } else { "SREM" };
                batch.add(
                    &key,
                    std::mem::take(cmd(verb).arg(&key).arg(filter.as_str())),
                );
            }
            batch.add(&log, change_entry(&log, change)?);
        }
        if batch.is_empty() {
            return Ok(());
        }
        self.redis
            .send(batch, "send to the other nodes")
            .await
            .map(drop)
    }

    /// Sends QoS 0 messages to other nodes' live feeds ([`LiveFeed`]): Redis
    /// pub/sub, nothing stored. Each node's are sent in order, as one message; to a
    /// node that has not yet read what it was sent before (a window of
    /// `LIVE_WINDOW` messages), only once it has, so that a node that publishes faster
    /// than another reads waits for it (and its publishers with it) rather than have
    /// Redis cut the reader off.
    ///
    /// # Errors
    /// A storage error if Redis does not take them (they are lost, as QoS 0 allows).
    pub async fn publish_live<'a>(
        &self,
        forwards: impl IntoIterator<Item = &'a Forward>,
    ) -> Result<(), Error> {
        self.live.publish(&self.redis, &self.node, forwards).await
    }

    /// Leaves the cluster: ends the lease and withdraws the node's filters. Its inbox
    /// stays, with what it had not read, for when it comes back.
    ///
    /// # Errors
    /// A storage error if Redis does not answer.
    pub async fn leave(&self, filters: &[TopicFilter]) -> Result<(), Error> {
        let changes: Vec<Change> = filters
            .iter()
            .map(|filter| Change::Filter {
                node: self.node.clone(),
                filter: filter.clone(),
                present: false,
            })
            .collect();
        self.send(&[], &changes, &[]).await?;
        self.beat("leave").await.map(drop)
    }

    fn inbox_key(&self, node: &str) -> String {
        format!("{}:inbox:{{n{node}}}", self.redis.prefix)
    }

    fn owner_key(&self, client_id: &str) -> String {
        format!("{}:owner:{{c{client_id}}}", self.redis.prefix)
    }

    fn sessions_key(&self, node: &str) -> String {
        format!("{}:sessions:{{n{node}}}", self.redis.prefix)
    }

    fn filters_key(&self, node: &str) -> String {
        format!("{}:filters:{{n{node}}}", self.redis.prefix)
    }
}

//! With `--node-id`: this broker as one node of a cluster on Redis. The router is
//! clustered (it names the forwards and changes, which the commit task sends with the
//! facts); three tasks here take in what the other nodes send: the inbox (messages
//! for this node's clients), the change log (the nodes' filters, retained messages),
//! and the lease.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use mqtt_common::RedisNode;
use mqtt_common::redis::Inbound;
use mqtt_common::redis::{ChangeLog, Inbox, InboxEntry, LiveFeed};
use mqtt_common::router::{Action, Change, Forward};
use tokio::sync::oneshot;

use crate::broker::Broker;
use crate::mailbox::{Command, Mailbox};
use crate::persist::Waiter;

/// How long to wait before trying Redis again after a failed read.
const RETRY: Duration = Duration::from_secs(1);

/// Routes what other nodes forward to this node's clients, for ever. An entry is
/// acknowledged once what it queued is stored; one whose store failed is read again.
pub async fn take_inbox(broker: Arc<Broker>, mut inbox: Inbox, node: String) {
    let mut failing = false;
    loop {
        let entries = match inbox.read(&node).await {
            Ok(entries) => entries,
            Err(err) => {
                if !failing {
                    tracing::error!("cannot read this node's inbox (trying again): {err}");
                    failing = true;
                }
                tokio::time::sleep(RETRY).await;
                continue;
            }
        };
        if failing {
            tracing::warn!("this node's inbox is read again");
            failing = false;
        }
        if entries.is_empty() {
            continue;
        }
        let (ids, stored) = route_entries(&broker, entries).await;
        if stored {
            if let Err(err) = inbox.done(&ids).await {
                tracing::warn!("cannot acknowledge the inbox (its entries come again): {err}");
                inbox.read_again();
            }
        } else {
            inbox.read_again();
            tokio::time::sleep(RETRY).await;
        }
    }
}

/// Routes inbox entries in order (a release after what came before it is stored);
/// returns their ids, and whether all they caused is stored.
async fn route_entries(broker: &Arc<Broker>, entries: Vec<InboxEntry>) -> (Vec<String>, bool) {
    let mut actions = Vec::new();
    let mut ids = Vec::with_capacity(entries.len());
    let mut stored = true;
    for entry in entries {
        ids.push(entry.id);
        let forwards = match entry.item {
            Ok(Inbound::Forwards(forwards)) => forwards,
            Ok(Inbound::Release { client_id, node }) => {
                // What came before it is routed and stored first: the session leaves
                // with it.
                stored &= store(broker, std::mem::take(&mut actions)).await;
                if let Err(err) = broker.release_session(&client_id, &node).await {
                    tracing::error!("cannot let the session of {client_id} go: {err}");
                }
                continue;
            }
            Ok(Inbound::Released { client_id }) => {
                stored &= store(broker, std::mem::take(&mut actions)).await;
                broker.session_released(&client_id).await;
                continue;
            }
            Ok(other) => {
                tracing::warn!("an inbox entry this version does not handle: {other:?}");
                continue;
            }
            Err(why) => {
                tracing::warn!("an inbox entry this version cannot read is dropped: {why}");
                continue;
            }
        };
        route_forwards(broker, &forwards, &mut actions).await;
    }
    stored &= store(broker, actions).await;
    (ids, stored)
}

/// Routes forwarded messages to this node's clients, in order (each receiver allowed
/// by the auth provider, if any); their actions are added to `actions`.
async fn route_forwards(broker: &Broker, forwards: &[Forward], actions: &mut Vec<Action>) {
    let now = SystemTime::now();
    // Most forwards are one delivery each.
    actions.reserve(forwards.len());
    if broker.auth.is_none() {
        let mut router = broker.router();
        for forward in forwards {
            actions.extend(router.receive_forward(forward, now, |_| true).actions);
        }
        return;
    }
    for forward in forwards {
        let receivers = broker.allowed_receivers(&forward.message).await;
        let published = broker
            .router()
            .receive_forward(forward, now, |client| receivers.contains(client));
        actions.extend(published.actions);
    }
}

/// Sends the QoS 0 messages posted to `mailbox` to the other nodes' live feeds, in
/// order, batched, for ever; when Redis does not take them they are dropped (logged
/// once). While it is behind, the connections that post to it pause, as for a slow
/// subscriber.
pub async fn send_live(node: RedisNode, mailbox: Arc<Mailbox>) {
    let mut failing = false;
    // The connections' lists as they posted them (a forward is large: not moved again).
    let mut batch = Vec::new();
    loop {
        std::future::poll_fn(|cx| mailbox.poll_posted(cx)).await;
        for command in mailbox.take() {
            if let Command::Live(forwards) = command {
                batch.push(forwards);
            }
        }
        if batch.is_empty() {
            continue;
        }
        match node.publish_live(batch.iter().flatten()).await {
            Ok(()) if failing => {
                tracing::warn!("QoS 0 messages reach the other nodes again");
                failing = false;
            }
            Ok(()) => {}
            Err(err) if !failing => {
                tracing::error!("QoS 0 messages for other nodes are dropped: {err}");
                failing = true;
            }
            Err(_) => {}
        }
        batch.clear();
    }
}

/// Routes the QoS 0 messages other nodes send live, for ever.
pub async fn take_live(broker: Arc<Broker>, mut feed: LiveFeed) {
    let mut failing = false;
    // One list for every read: its room is reused.
    let mut forwards = Vec::new();
    loop {
        match feed.read_into(&mut forwards).await {
            Ok(()) => {
                if failing {
                    tracing::warn!("the live feed is read again");
                    failing = false;
                }
                let mut actions = Vec::new();
                route_forwards(&broker, &forwards, &mut actions).await;
                forwards.clear();
                broker.carry_out_own(actions);
            }
            Err(err) => {
                if !failing {
                    tracing::error!("cannot read the live feed (trying again): {err}");
                    failing = true;
                }
                tokio::time::sleep(RETRY).await;
            }
        }
    }
}

/// Carries out actions and waits until what they leave is stored; whether it was.
async fn store(broker: &Arc<Broker>, actions: Vec<Action>) -> bool {
    let (stored, outcome) = oneshot::channel();
    broker.carry_out_waiting(actions, Waiter::Task(stored));
    matches!(outcome.await, Ok(true))
}

/// Applies the change log (other nodes' filters, every node's retained messages) to
/// the router, in order, for ever.
pub async fn follow_changes(broker: Arc<Broker>, mut log: ChangeLog) {
    let mut failing = false;
    loop {
        match log.read().await {
            Ok(changes) => {
                if failing {
                    tracing::warn!("the change log is read again");
                    failing = false;
                }
                apply(&broker, &changes);
            }
            Err(err) => {
                if !failing {
                    tracing::error!("cannot read the change log (trying again): {err}");
                    failing = true;
                }
                tokio::time::sleep(RETRY).await;
            }
        }
    }
}

/// Applies changes to the router.
pub fn apply(broker: &Broker, changes: &[Change]) {
    let mut router = broker.router();
    for change in changes {
        if let Err(err) = router.apply_change(change) {
            tracing::warn!("a change of the log is not applied: {err}");
        }
    }
}

/// Renews this node's lease, for ever, and adopts the nodes whose lease ends (one
/// survivor does: see `adopt`). A node whose own lease another node took stops the
/// process: its sessions are that node's now, and serving them here too would split
/// them.
pub async fn keep_lease(broker: Arc<Broker>, node: RedisNode, every: Duration) {
    let lease = every * 3;
    let mut silent: Vec<String> = Vec::new();
    let mut failing = false;
    // After Redis was away, every node's lease may have ended meanwhile: the others get
    // a whole lease to renew theirs before this node takes a silent one for dead.
    let mut trust_from = tokio::time::Instant::now();
    loop {
        tokio::time::sleep(every).await;
        match node.heartbeat().await {
            Ok(ended) => {
                if failing {
                    tracing::warn!("this node's lease is renewed again");
                    failing = false;
                    // Redis is back now (a call may have waited for it all along): the
                    // others get a whole lease from now to renew theirs.
                    trust_from = tokio::time::Instant::now() + lease;
                }
                if tokio::time::Instant::now() < trust_from {
                    silent.clear();
                    continue;
                }
                for other in &ended {
                    if !silent.contains(other) {
                        tracing::warn!("node {other} has not renewed its lease");
                        tokio::spawn(adopt(broker.clone(), node.clone(), other.clone()));
                    }
                }
                silent = ended;
            }
            Err(err) if err.kind() == mqtt_common::ErrorKind::State => {
                tracing::error!("{err}: this process stops (start it again to rejoin)");
                std::process::exit(3);
            }
            Err(err) => {
                if !failing {
                    tracing::error!("cannot renew this node's lease: {err}");
                    failing = true;
                }
                trust_from = tokio::time::Instant::now() + lease;
            }
        }
    }
}

/// How long an adopted node's inbox is still drained after its filters are withdrawn:
/// what other nodes sent it before they saw the withdrawal.
const DRAIN_GRACE: Duration = Duration::from_secs(5);

/// Adopts a node whose lease ended, if this node is the one that does: takes up its
/// sessions (their due Wills are then published, once, by this node's timers),
/// withdraws its filters, routes what is left in its inbox, and forgets it.
async fn adopt(broker: Arc<Broker>, node: RedisNode, dead: String) {
    let adopting = broker.adoption.write().await;
    let adopted = loop {
        match node.adopt(&dead).await {
            Ok(Some(adopted)) => break adopted,
            Ok(None) => return, // another node adopts it, or it came back
            Err(err) => {
                tracing::error!("cannot adopt node {dead} (trying again): {err}");
                tokio::time::sleep(RETRY).await;
            }
        }
    };
    tracing::warn!(
        "adopting node {dead}: {} sessions",
        adopted.client_ids.len()
    );
    if let Err(err) = broker.take_up(adopted.client_ids.clone()).await {
        tracing::error!("cannot take up the sessions of node {dead}: {err}");
    }
    drop(adopting);
    // This node's filters for them are announced before the old ones are withdrawn.
    store(&broker, Vec::new()).await;
    while let Err(err) = node.send(&[], &adopted.filters, &[]).await {
        tracing::error!("cannot withdraw the filters of node {dead} (trying again): {err}");
        tokio::time::sleep(RETRY).await;
    }
    let mut quiet_since = tokio::time::Instant::now();
    while quiet_since.elapsed() < DRAIN_GRACE {
        let entries = match node.drain(&dead, 1000).await {
            Ok(entries) => entries,
            Err(err) => {
                tracing::error!("cannot drain the inbox of node {dead}: {err}");
                tokio::time::sleep(RETRY).await;
                continue;
            }
        };
        if entries.is_empty() {
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        }
        quiet_since = tokio::time::Instant::now();
        let (ids, stored) = route_entries(&broker, entries).await;
        if !stored || node.drained(&dead, &ids).await.is_err() {
            tokio::time::sleep(RETRY).await;
        }
    }
    match node.forget(&dead).await {
        Ok(()) => tracing::info!("node {dead} adopted"),
        Err(err) => tracing::error!("cannot forget node {dead}: {err}"),
    }
}

//! The Redis streams a cluster's nodes read: each node's inbox (with its consumer group)
//! and the change log, with how their entries are written and read.
//!
//! ```text
//! <prefix>:changes               stream   k=filter|unfilter n=<node> f=<filter>
//!                                         k=retained m=<timed message record>
//!                                         k=cleared t=<topic>
//! <prefix>:inbox:{n<node>}       stream   k=forwards m=<forwards record>
//!                                         k=release c=<client> n=<asking node>
//!                                         k=released c=<client>; group <node>
//! ```

use std::time::Duration;
#[cfg(test)]
use std::time::SystemTime;

use redis::{Cmd, Value, cmd};

use super::node::Inbound;
use super::records::{decode_forwards, decode_timed, encode_forwards, encode_timed};
use super::{Batch, Redis};
use crate::error::Error;
use crate::router::{Change, Forward};
use crate::topic::{TopicFilter, TopicName};

/// How many changes the log keeps (about): a node that falls further behind than this
/// misses some.
const CHANGE_LOG_LENGTH: u64 = 100_000;

/// A node's inbox: the messages forwarded to it, on a connection of its own (a read
/// waits on it).
#[derive(Debug)]
pub struct Inbox {
    pub(super) redis: Redis,
    pub(super) key: String,
    pub(super) group: String,
    pub(super) batch: usize,
    pub(super) block: Duration,
    /// Reading what a previous run left unacknowledged (from "0"), until it is read.
    pub(super) backlog: bool,
}

/// One entry of a node's inbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboxEntry {
    /// The entry's id, for [`Inbox::done`].
    pub id: String,
    /// What it holds; Err with why for an entry this version cannot read (it is
    /// acknowledged as the rest, and should be logged).
    pub item: Result<Inbound, String>,
}

/// The change log, read from a point on, on a connection of its own.
#[derive(Debug)]
pub struct ChangeLog {
    pub(super) redis: Redis,
    pub(super) key: String,
    pub(super) position: String,
    pub(super) batch: usize,
    pub(super) block: Duration,
}

impl Inbox {
    /// The next entries, oldest first: first those a previous run of the node read and
    /// did not finish, then new ones; waits up to the configured block for one to
    /// arrive (an empty Vec: none did).
    ///
    /// # Errors
    /// A storage error if Redis does not answer (try again later: nothing is lost).
    pub async fn read(&mut self, node: &str) -> Result<Vec<InboxEntry>, Error> {
        let mut read = cmd("XREADGROUP");
        read.arg("GROUP")
            .arg(&self.group)
            .arg(&self.group)
            .arg("COUNT")
            .arg(self.batch);
        if !self.backlog {
            read.arg("BLOCK").arg(millis(self.block));
        }
        read.arg("STREAMS")
            .arg(&self.key)
            .arg(if self.backlog { "0" } else { ">" });
        let reply: Value = self.redis.query(&read, "read the node's inbox").await?;
        let found: Vec<InboxEntry> = stream_entries(&reply)
            .into_iter()
            .map(|(id, fields)| InboxEntry {
                id,
                item: decode_inbound(node, &fields),
            })
            .collect();
        if self.backlog && found.is_empty() {
            self.backlog = false;
        }
        Ok(found)
    }

    /// Reads again, from the next read on, what was read and not [`done`](Self::done)
    /// (after a failure to store what it queued).
    pub fn read_again(&mut self) {
        self.backlog = true;
    }

    /// Acknowledges and deletes entries the node has routed, and whose queued copies
    /// are stored.
    ///
    /// # Errors
    /// A storage error if Redis does not answer (they are then read again: at least
    /// once).
    pub async fn done(&self, ids: &[String]) -> Result<(), Error> {
        if ids.is_empty() {
            return Ok(());
        }
        let mut ack = cmd("XACK");
        ack.arg(&self.key).arg(&self.group).arg(ids);
        let mut delete = cmd("XDEL");
        delete.arg(&self.key).arg(ids);
        let mut batch = Batch::reads();
        batch.add(&self.key, ack).add(&self.key, delete);
        self.redis
            .send(batch, "acknowledge the inbox")
            .await
            .map(drop)
    }
}

impl ChangeLog {
    /// The changes after the last read, in the log's order; waits up to the configured
    /// block for one to arrive. Entries this version cannot read are skipped.
    ///
    /// # Errors
    /// A storage error if Redis does not answer (try again: the position is kept).
    pub async fn read(&mut self) -> Result<Vec<Change>, Error> {
        let mut read = cmd("XREAD");
        read.arg("COUNT")
            .arg(self.batch)
            .arg("BLOCK")
            .arg(millis(self.block))
            .arg("STREAMS")
            .arg(&self.key)
            .arg(&self.position);
        let reply: Value = self.redis.query(&read, "read the change log").await?;
        let mut changes = Vec::new();
        for (id, fields) in stream_entries(&reply) {
            self.position = id;
            if let Some(change) = decode_change(&fields) {
                changes.push(change);
            }
        }
        Ok(changes)
    }
}

pub(super) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Forwards grouped by the node they go to, each node's in order, the nodes in the
/// order of their first forward.
pub(super) fn per_node<'a>(
    forwards: impl IntoIterator<Item = &'a Forward>,
) -> Vec<(&'a str, Vec<&'a Forward>)> {
    let mut by_node: Vec<(&str, Vec<&Forward>)> = Vec::new();
    for forward in forwards {
        match by_node.iter_mut().find(|(node, _)| *node == &*forward.node) {
            Some((_, to)) => to.push(forward),
            None => by_node.push((&forward.node, vec![forward])),
        }
    }
    by_node
}

/// The XADD of messages forwarded to one node's inbox, as one entry.
pub(super) fn forwards_entry(key: &str, forwards: &[&Forward]) -> Result<Cmd, Error> {
    let mut add = cmd("XADD");
    add.arg(key)
        .arg("*")
        .arg("k")
        .arg("forwards")
        .arg("m")
        .arg({
            let mut record = Vec::new();
            encode_forwards(&mut record, forwards.iter().copied())?;
            record
        });
    Ok(add)
}

/// The XADD of a change to the log.
pub(super) fn change_entry(key: &str, change: &Change) -> Result<Cmd, Error> {
    let mut add = cmd("XADD");
    add.arg(key)
        .arg("MAXLEN")
        .arg("~")
        .arg(CHANGE_LOG_LENGTH)
        .arg("*");
    match change {
        Change::Filter {
            node,
            filter,
            present,
        } => {
            let kind = if *present { "filter" } else { "unfilter" };
            add.arg("k")
                .arg(kind)
                .arg("n")
                .arg(node)
                .arg("f")
                .arg(filter.as_str());
        }
        Change::Retained {
            message,
            arrived_at,
        } => {
            add.arg("k")
                .arg("retained")
                .arg("m")
                .arg(encode_timed(message, *arrived_at)?);
        }
        Change::RetainedCleared { topic } => {
            add.arg("k").arg("cleared").arg("t").arg(topic.as_str());
        }
    }
    Ok(add)
}

type Fields = Vec<(String, Vec<u8>)>;

fn field<'a>(fields: &'a Fields, name: &str) -> Option<&'a [u8]> {
    fields
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_slice())
}

fn text(fields: &Fields, name: &str) -> Option<String> {
    String::from_utf8(field(fields, name)?.to_vec()).ok()
}

pub(super) fn decode_inbound(node: &str, fields: &Fields) -> Result<Inbound, String> {
    match field(fields, "k") {
        Some(b"release") => Ok(Inbound::Release {
            client_id: text(fields, "c").ok_or("a release without its client")?,
            node: text(fields, "n").ok_or("a release without its node")?,
        }),
        Some(b"released") => Ok(Inbound::Released {
            client_id: text(fields, "c").ok_or("a release without its client")?,
        }),
        Some(b"forwards") => {
            let record = field(fields, "m").ok_or("forwarded messages without a record")?;
            decode_forwards(node, &bytes::Bytes::copy_from_slice(record))
                .map(Inbound::Forwards)
                .map_err(|e| e.to_string())
        }
        _ => Err("not an entry this version writes".to_owned()),
    }
}

fn decode_change(fields: &Fields) -> Option<Change> {
    match field(fields, "k")? {
        b"filter" | b"unfilter" => Some(Change::Filter {
            node: text(fields, "n")?,
            filter: TopicFilter::new(&text(fields, "f")?).ok()?,
            present: field(fields, "k")? == b"filter",
        }),
        b"retained" => {
            let (message, arrived_at) =
                decode_timed(field(fields, "m")?, &"a retained message of the log").ok()?;
            Some(Change::Retained {
                message,
                arrived_at,
            })
        }
        b"cleared" => Some(Change::RetainedCleared {
            topic: TopicName::new(&text(fields, "t")?).ok()?,
        }),
        _ => None,
    }
}

/// The entries of an XREAD/XREADGROUP reply of one stream (RESP2 arrays or RESP3 maps).
pub(super) fn stream_entries(reply: &Value) -> Vec<(String, Fields)> {
    let pairs: Vec<(&Value, &Value)> = match reply {
        Value::Array(streams) => streams
            .iter()
            .filter_map(|stream| match stream {
                Value::Array(pair) if pair.len() == 2 => Some((&pair[0], &pair[1])),
                _ => None,
            })
            .collect(),
        Value::Map(pairs) => pairs.iter().map(|(k, v)| (k, v)).collect(),
        _ => Vec::new(),
    };
    pairs
        .into_iter()
        .flat_map(|(_, stream)| entries(stream))
        .collect()
}

/// The (id, fields) of a list of stream entries.
pub(super) fn entries(value: &Value) -> Vec<(String, Fields)> {
    let Value::Array(items) = value else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| {
            let Value::Array(pair) = item else {
                return None;
            };
            let id = String::from_utf8(bytes(pair.first()?)?).ok()?;
            // A pending entry deleted meanwhile comes back with no fields (nil).
            let fields = match pair.get(1) {
                Some(Value::Array(flat)) => flat
                    .chunks_exact(2)
                    .filter_map(|kv| {
                        Some((String::from_utf8(bytes(&kv[0])?).ok()?, bytes(&kv[1])?))
                    })
                    .collect(),
                Some(Value::Map(map)) => map
                    .iter()
                    .filter_map(|(k, v)| Some((String::from_utf8(bytes(k)?).ok()?, bytes(v)?)))
                    .collect(),
                _ => Vec::new(),
            };
            Some((id, fields))
        })
        .collect()
}

fn bytes(value: &Value) -> Option<Vec<u8>> {
    match value {
        Value::BulkString(data) => Some(data.clone()),
        Value::SimpleString(text) => Some(text.clone().into_bytes()),
        _ => None,
    }
}

/// When the clock reads `at` (the time records use), for tests.
#[cfg(test)]
fn round_trip_time(at: SystemTime) -> SystemTime {
    crate::records::time(crate::records::nanos(at))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::constants::QoS;
    use crate::message::Message;

    fn flat(cmd: &Cmd) -> Fields {
        // The command's arguments after XADD key [MAXLEN ~ n] *, as stored fields.
        let args: Vec<Vec<u8>> = cmd
            .args_iter()
            .map(|a| match a {
                redis::Arg::Simple(bytes) => bytes.to_vec(),
                _ => Vec::new(),
            })
            .collect();
        let star = args.iter().position(|a| a == b"*").unwrap();
        args[star + 1..]
            .chunks_exact(2)
            .map(|kv| (String::from_utf8(kv[0].clone()).unwrap(), kv[1].clone()))
            .collect()
    }

    #[test]
    fn forwards_and_changes_read_back_as_written() {
        let message = Message::builder(TopicName::new("a/b").unwrap())
            .payload("hi")
            .qos(QoS::ExactlyOnce)
            .retain(true)
            .build()
            .unwrap();
        let at = round_trip_time(SystemTime::now());
        let forward = Forward {
            node: "n2".into(),
            message: message.clone(),
            publisher: Some("pub".into()),
            groups: vec!["$share/g/a/#".to_owned(), "$share/h/#".to_owned()],
            published_at: at,
            client: Some("c".to_owned()),
        };
        let plain = Forward {
            publisher: None,
            groups: Vec::new(),
            client: None,
            ..forward.clone()
        };
        let entry = flat(&forwards_entry("k", &[&forward, &plain]).unwrap());
        let back = decode_inbound("n2", &entry);
        assert_eq!(back, Ok(Inbound::Forwards(vec![forward, plain])));
        for change in [
            Change::Filter {
                node: "n1".to_owned(),
                filter: TopicFilter::new("$share/g/x/+").unwrap(),
                present: false,
            },
            Change::Retained {
                message,
                arrived_at: at,
            },
            Change::RetainedCleared {
                topic: TopicName::new("t").unwrap(),
            },
        ] {
            let fields = flat(&change_entry("log", &change).unwrap());
            assert_eq!(decode_change(&fields), Some(change));
        }
    }

    #[test]
    fn unreadable_entries_say_why() {
        let fields = vec![("k".to_owned(), b"forwards".to_vec())];
        let why = decode_inbound("n", &fields).unwrap_err();
        assert_eq!(why, "forwarded messages without a record");
        let fields = vec![
            ("k".to_owned(), b"forwards".to_vec()),
            ("m".to_owned(), vec![1, 0, 0]),
        ];
        let why = decode_inbound("n", &fields).unwrap_err();
        assert!(why.contains("ends too soon"), "{why}");
        assert_eq!(decode_change(&vec![("k".to_owned(), b"?".to_vec())]), None);
    }
}

//! Mosquitto's ACL file, read unchanged, deciding as mosquitto 2.0 does.
//!
//! The grammar: `topic [read|write|readwrite|deny] <filter>` (readwrite when the access
//! is left out); `topic` lines before the first `user <name>` line are for clients
//! without a user name, after it for that user; `pattern [access] <filter>` lines are
//! for every client, `%c` standing for its client id and `%u` for its user name; `#`
//! starts a comment line. A line that does not parse refuses the whole file, each bad
//! line named by its number.
//!
//! The decisions, as mosquitto 2.0's default ACL check makes them:
//!
//! * a `$SYS` topic may not be written (but for `$SYS/broker/connection/+/state`), a
//!   `$share` topic only subscribed to; `$` topics match only filters that start with
//!   `$`;
//! * subscribing is always allowed: what a client may read is checked per delivered
//!   message ([`Action::Receive`]), writing per publish ([`Action::Publish`]);
//! * the client's own lines (its user's, or the anonymous ones) are checked first, deny
//!   lines before the others, then the patterns the same way; the first match that
//!   grants the access allows, anything else is denied;
//! * a client id or user name holding `+` or `#` gets nothing from the patterns
//!   (CVE-2017-7650), a pattern with `%u` does not apply to a client without a user
//!   name, and a file without any rule denies everything but subscribing
//!   (CVE-2018-12550).

use std::collections::HashMap;

use crate::auth::Action;
use crate::auth::password_file::BadLine;
use crate::error::Error;
use crate::topic::{TopicFilter, topic_matches};

const READ: u8 = 1;
const WRITE: u8 = 2;

/// One level of a rule's filter, compiled once at load.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Level {
    Literal(String),
    Plus,
    Hash,
    /// A pattern level with `%c` or `%u` in it: text and placeholders, in order.
    Template(Vec<Piece>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Piece {
    Text(String),
    ClientId,
    Username,
}

fn compile(filter: &str, pattern: bool) -> Vec<Level> {
    filter
        .split('/')
        .map(|level| match level {
            "+" => Level::Plus,
            "#" => Level::Hash,
            _ if pattern && (level.contains("%c") || level.contains("%u")) => {
                let mut pieces = Vec::new();
                let mut rest = level;
                while let Some(at) = rest.find('%') {
                    let (text, tail) = rest.split_at(at);
                    let piece = match tail.get(..2) {
                        Some("%c") => Some(Piece::ClientId),
                        Some("%u") => Some(Piece::Username),
                        _ => None,
                    };
                    match piece {
                        Some(piece) => {
                            if !text.is_empty() {
                                pieces.push(Piece::Text(text.to_owned()));
                            }
                            pieces.push(piece);
                            rest = &tail[2..];
                        }
                        None => {
                            pieces.push(Piece::Text(format!("{text}%")));
                            rest = &tail[1..];
                        }
                    }
                }
                if !rest.is_empty() {
                    pieces.push(Piece::Text(rest.to_owned()));
                }
                Level::Template(pieces)
            }
            _ => Level::Literal(level.to_owned()),
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    /// READ | WRITE bits; 0 for a deny line.
    access: u8,
    filter: String,
    levels: Vec<Level>,
    uses_username: bool,
}

impl Rule {
    /// Whether the rule, with the client's names put in, matches the topic (split into
    /// levels). A name holding `/` is put in as text first, as mosquitto does.
    fn matches(
        &self,
        topic: &str,
        levels: &[&str],
        client_id: &str,
        username: Option<&str>,
    ) -> bool {
        if self.uses_username && username.is_none() {
            return false;
        }
        let templated = self.levels.iter().any(|l| matches!(l, Level::Template(_)));
        if templated && (client_id.contains('/') || username.is_some_and(|u| u.contains('/'))) {
            let filter = self
                .filter
                .replace("%c", client_id)
                .replace("%u", username.unwrap_or_default());
            return topic_matches(&filter, topic).unwrap_or(false);
        }
        if topic.starts_with('$') && matches!(self.levels.first(), Some(Level::Plus | Level::Hash))
        {
            return false;
        }
        let mut index = 0;
        for level in &self.levels {
            if matches!(level, Level::Hash) {
                return true;
            }
            let Some(actual) = levels.get(index) else {
                return false;
            };
            let fits = match level {
                Level::Literal(text) => text == actual,
                Level::Plus | Level::Hash => true,
                Level::Template(pieces) => {
                    let mut rest: &str = actual;
                    pieces.iter().all(|piece| {
                        let part = match piece {
                            Piece::Text(text) => text.as_str(),
                            Piece::ClientId => client_id,
                            Piece::Username => username.unwrap_or_default(),
                        };
                        rest.strip_prefix(part).is_some_and(|tail| {
                            rest = tail;
                            true
                        })
                    }) && rest.is_empty()
                }
            };
            if !fits {
                return false;
            }
            index += 1;
        }
        index == levels.len()
    }
}

/// Rules, with an index by their first level so that a decision looks only at the rules
/// that can match the topic.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct RuleSet {
    rules: Vec<Rule>,
    by_first_level: HashMap<String, Vec<usize>>,
    /// Rules whose first level is a wildcard or a template.
    others: Vec<usize>,
}

impl RuleSet {
    fn push(&mut self, rule: Rule) {
        let index = self.rules.len();
        match rule.levels.first() {
            Some(Level::Literal(first)) => {
                self.by_first_level
                    .entry(first.clone())
                    .or_default()
                    .push(index);
            }
            _ => self.others.push(index),
        }
        self.rules.push(rule);
    }

    /// Deny lines first: Some(false) if one matches, Some(true) if a line granting
    /// `wanted` matches, None if none does.
    fn decide(
        &self,
        topic: &str,
        levels: &[&str],
        client_id: &str,
        username: Option<&str>,
        wanted: u8,
    ) -> Option<bool> {
        let first = levels.first().copied().unwrap_or_default();
        let candidates = || {
            self.by_first_level
                .get(first)
                .into_iter()
                .flatten()
                .chain(&self.others)
                .map(|&index| &self.rules[index])
        };
        if candidates()
            .any(|rule| rule.access == 0 && rule.matches(topic, levels, client_id, username))
        {
            return Some(false);
        }
        candidates()
            .any(|rule| {
                rule.access & wanted != 0 && rule.matches(topic, levels, client_id, username)
            })
            .then_some(true)
    }

    fn len(&self) -> usize {
        self.rules.len()
    }

    fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

impl Rule {
    fn parse(rest: &str, pattern: bool) -> Result<Self, String> {
        let rest = rest.trim();
        if matches!(rest, "read" | "write" | "readwrite" | "deny") {
            return Err(format!("a topic filter is needed after {rest:?}"));
        }
        let (access, filter) = match rest.split_once(char::is_whitespace) {
            Some((word @ ("read" | "write" | "readwrite" | "deny"), filter)) => {
                let access = match word {
                    "read" => READ,
                    "write" => WRITE,
                    "readwrite" => READ | WRITE,
                    _ => 0,
                };
                (access, filter.trim())
            }
            _ => (READ | WRITE, rest),
        };
        if filter.is_empty() {
            return Err("a topic filter is needed".to_owned());
        }
        // A pattern's filter is checked once %c and %u are put in: check it with a
        // placeholder level.
        let checked = if pattern {
            filter.replace("%c", "c").replace("%u", "u")
        } else {
            filter.to_owned()
        };
        TopicFilter::new(&checked)
            .map_err(|e| format!("{filter:?} is not a topic filter ({e})"))?;
        Ok(Self {
            access,
            filter: filter.to_owned(),
            levels: compile(filter, pattern),
            uses_username: pattern && filter.contains("%u"),
        })
    }
}

/// The rules of a mosquitto ACL file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AclFile {
    anonymous: RuleSet,
    users: HashMap<String, RuleSet>,
    patterns: RuleSet,
}

impl AclFile {
    /// Reads an ACL file's text.
    ///
    /// # Errors
    /// an authorization error listing every bad line with its number.
    pub fn parse(text: &str) -> Result<Self, Error> {
        Self::check(text).map_err(|bad| refused("bad ACL file", &bad))
    }

    /// Reads an ACL file's text, returning its bad lines if it has any.
    ///
    /// # Errors
    /// every bad line, with its number and what is wrong with it.
    pub fn check(text: &str) -> Result<Self, Vec<BadLine>> {
        let mut acl = Self::default();
        let mut user: Option<String> = None;
        let mut bad = Vec::new();
        for (index, raw) in text.split('\n').enumerate() {
            let line = raw.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let (keyword, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
            let parsed = match keyword {
                "user" => {
                    let name = rest.trim();
                    if name.is_empty() {
                        Err("`user` needs a user name".to_owned())
                    } else {
                        user = Some(name.to_owned());
                        acl.users.entry(name.to_owned()).or_default();
                        Ok(())
                    }
                }
                "topic" => Rule::parse(rest, false).map(|rule| match &user {
                    Some(name) => acl.users.entry(name.clone()).or_default().push(rule),
                    None => acl.anonymous.push(rule),
                }),
                "pattern" => Rule::parse(rest, true).map(|rule| acl.patterns.push(rule)),
                other => Err(format!(
                    "unknown keyword {other:?} (expected topic, user or pattern)"
                )),
            };
            if let Err(reason) = parsed {
                bad.push(BadLine {
                    line: index + 1,
                    reason,
                });
            }
        }
        if bad.is_empty() { Ok(acl) } else { Err(bad) }
    }

    /// Reads the ACL file at `path`.
    ///
    /// # Errors
    /// an authorization error if the file cannot be read, is not UTF-8, or has bad lines.
    pub fn load(path: &std::path::Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|e| {
            Error::authorization(format!("cannot read the ACL file {}: {e}", path.display()))
        })?;
        Self::check(&text).map_err(|bad| refused(&format!("bad ACL file {}", path.display()), &bad))
    }

    /// Whether the client may perform `action` on `topic` (a filter for
    /// [`Action::Subscribe`]).
    pub fn allows(
        &self,
        client_id: &str,
        username: Option<&str>,
        topic: &str,
        action: Action,
    ) -> bool {
        if crate::topic::is_sys_topic(topic) {
            if action == Action::Publish
                && !topic_matches("$SYS/broker/connection/+/state", topic).unwrap_or(false)
            {
                return false;
            }
        } else if topic.starts_with("$share") && action != Action::Subscribe {
            return false;
        }
        let wanted = match action {
            // What a subscriber may read is checked per delivered message.
            Action::Subscribe => return true,
            // Not a topic name: nothing to allow.
            _ if topic.is_empty() => return false,
            Action::Publish => WRITE,
            Action::Receive => READ,
        };
        // An empty user name is no user name: mosquitto gives it the anonymous lines.
        let username = username.filter(|name| !name.is_empty());
        let empty = RuleSet::default();
        let own = match username {
            Some(name) => self.users.get(name).unwrap_or(&empty),
            None => &self.anonymous,
        };
        let levels: Vec<&str> = topic.split('/').collect();
        if let Some(decided) = own.decide(topic, &levels, client_id, username, wanted) {
            return decided;
        }
        if self.patterns.is_empty() {
            return false;
        }
        let has_wildcard = |name: &str| name.contains(['+', '#']);
        if has_wildcard(client_id) || username.is_some_and(has_wildcard) {
            return false;
        }
        self.patterns
            .decide(topic, &levels, client_id, username, wanted)
            .unwrap_or(false)
    }

    /// How many rules the file has (topic and pattern lines).
    pub fn len(&self) -> usize {
        self.anonymous.len()
            + self.patterns.len()
            + self.users.values().map(RuleSet::len).sum::<usize>()
    }

    /// Whether the file has no rule (it then denies everything but subscribing).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

fn refused(what: &str, bad: &[BadLine]) -> Error {
    let lines: Vec<String> = bad.iter().map(ToString::to_string).collect();
    Error::authorization(format!("{what}: {}", lines.join("; ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_anonymous_and_patterns() {
        let acl = AclFile::parse(
            "# comment\ntopic read public/#\nuser alice\ntopic alice/#\ntopic deny alice/secret\n\
             pattern write clients/%c/#\npattern read users/%u/#\n",
        )
        .unwrap();
        let allows = |c: &str, u: Option<&str>, t: &str, a: Action| acl.allows(c, u, t, a);
        assert!(allows("x", None, "public/a", Action::Receive));
        assert!(!allows("x", None, "public/a", Action::Publish));
        assert!(!allows("x", Some("alice"), "public/a", Action::Receive));
        assert!(allows("x", Some("alice"), "alice/a", Action::Publish));
        assert!(!allows("x", Some("alice"), "alice/secret", Action::Receive));
        assert!(allows("c1", None, "clients/c1/t", Action::Publish));
        assert!(!allows("c1", None, "clients/c2/t", Action::Publish));
        assert!(!allows("c+", None, "clients/c+/t", Action::Publish));
        assert!(allows("c", Some("bob"), "users/bob/x", Action::Receive));
        assert!(!allows("c", None, "users//x", Action::Receive));
        assert!(allows("c", None, "anything/#", Action::Subscribe));
    }

    #[test]
    fn dollar_topics_and_the_empty_file() {
        let acl = AclFile::parse("topic #\ntopic $SYS/#\n").unwrap();
        assert!(!acl.allows("c", None, "$SYS/broker/x", Action::Publish));
        assert!(acl.allows("c", None, "$SYS/broker/x", Action::Receive));
        assert!(!acl.allows("c", None, "$other", Action::Receive));
        assert!(!acl.allows("c", None, "$share/g/t", Action::Publish));
        let empty = AclFile::parse("# nothing\n").unwrap();
        assert!(empty.is_empty());
        assert!(!empty.allows("c", None, "t", Action::Publish));
        assert!(!empty.allows("c", None, "t", Action::Receive));
    }

    proptest::proptest! {
        /// The compiled match equals mosquitto's way: put the names in, then match.
        #[test]
        fn compiled_patterns_match_as_the_expanded_filter(
            filter in "(%c|%u|x%cy|[ab+#$]|%)(/(%c|%u|[ab+]|a%u|%x)){0,3}(/#)?",
            topic in "[$]?[ab]{0,2}(/(c1|u1|xc1y|[ab]{0,2}|au1|%x)){0,4}",
            client_id in "(c1|c/1|a)",
            username in proptest::option::of("(u1|a|u/1)"),
        ) {
            let checked = filter.replace("%c", "c").replace("%u", "u");
            proptest::prop_assume!(TopicFilter::new(&checked).is_ok());
            // A topic name has at least one character; `allows` refuses an empty one.
            proptest::prop_assume!(!topic.is_empty());
            let rule = Rule::parse(&format!("read {filter}"), true).unwrap();
            let levels: Vec<&str> = topic.split('/').collect();
            let compiled = rule.matches(&topic, &levels, &client_id, username.as_deref());
            let expected = if filter.contains("%u") && username.is_none() {
                false
            } else {
                let expanded = filter
                    .replace("%c", &client_id)
                    .replace("%u", username.as_deref().unwrap_or_default());
                topic_matches(&expanded, &topic).unwrap_or(false)
            };
            proptest::prop_assert_eq!(compiled, expected, "{} on {}", filter, topic);
        }
    }

    #[test]
    fn bad_lines_are_numbered() {
        let bad =
            AclFile::check("topic\nuser\nfrobnicate x\ntopic a/#/b\ntopic read\n").unwrap_err();
        let lines: Vec<usize> = bad.iter().map(|b| b.line).collect();
        assert_eq!(lines, [1, 2, 3, 4, 5]);
    }
}

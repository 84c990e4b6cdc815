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

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    /// READ | WRITE bits; 0 for a deny line.
    access: u8,
    filter: String,
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
        })
    }
}

/// The rules of a mosquitto ACL file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AclFile {
    anonymous: Vec<Rule>,
    users: HashMap<String, Vec<Rule>>,
    patterns: Vec<Rule>,
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
        if topic.starts_with("$SYS") {
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
            Action::Publish => WRITE,
            Action::Receive => READ,
        };
        let own: &[Rule] = match username {
            Some(name) => self.users.get(name).map_or(&[], Vec::as_slice),
            None => &self.anonymous,
        };
        let matches = |filter: &str| topic_matches(filter, topic).unwrap_or(false);
        if own
            .iter()
            .any(|rule| rule.access == 0 && matches(&rule.filter))
        {
            return false;
        }
        if own
            .iter()
            .any(|rule| rule.access & wanted != 0 && matches(&rule.filter))
        {
            return true;
        }
        if self.patterns.is_empty() {
            return false;
        }
        let has_wildcard = |name: &str| name.contains(['+', '#']);
        if has_wildcard(client_id) || username.is_some_and(has_wildcard) {
            return false;
        }
        let expanded = |rule: &Rule| -> Option<String> {
            if rule.filter.contains("%u") {
                let name = username?;
                Some(rule.filter.replace("%c", client_id).replace("%u", name))
            } else {
                Some(rule.filter.replace("%c", client_id))
            }
        };
        let pattern_matches = |rule: &Rule| expanded(rule).is_some_and(|filter| matches(&filter));
        if self
            .patterns
            .iter()
            .any(|rule| rule.access == 0 && pattern_matches(rule))
        {
            return false;
        }
        self.patterns
            .iter()
            .any(|rule| rule.access & wanted != 0 && pattern_matches(rule))
    }

    /// How many rules the file has (topic and pattern lines).
    pub fn len(&self) -> usize {
        self.anonymous.len()
            + self.patterns.len()
            + self.users.values().map(Vec::len).sum::<usize>()
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

    #[test]
    fn bad_lines_are_numbered() {
        let bad =
            AclFile::check("topic\nuser\nfrobnicate x\ntopic a/#/b\ntopic read\n").unwrap_err();
        let lines: Vec<usize> = bad.iter().map(|b| b.line).collect();
        assert_eq!(lines, [1, 2, 3, 4, 5]);
    }
}

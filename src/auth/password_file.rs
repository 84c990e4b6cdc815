//! Mosquitto's password file, read unchanged and written so that mosquitto reads it.
//!
//! A line is `username:hash`; `#` starts a comment line; blank lines are skipped. As
//! mosquitto does, the blanks around the user name and around the hash are not part of
//! them (` alice :hash` is user `alice`). A hash is one of:
//!
//! * `$6$salt$hash`: SHA-512 of the password followed by the salt (mosquitto's
//!   `sha512`), salt and hash in base64;
//! * `$7$iterations$salt$hash`: PBKDF2-HMAC-SHA512 with a 64-byte key (mosquitto's
//!   `sha512-pbkdf2`, its default), any iteration count and salt length;
//! * `$argon2id$v=19$m=...,t=...,p=...$salt$hash`: a PHC string (mosquitto 2.1's
//!   `argon2id`).
//!
//! The policy for a bad file is strict: one malformed line (a plain-text password, a
//! hash that does not decode, a user named twice, ...) refuses the whole file, and every
//! bad line is reported with its number. A line that does not parse never becomes a
//! user, with or without a password (CVE-2018-12551).
//!
//! Verification compares in constant time, and an unknown user costs the same as a wrong
//! password (the password is checked against a known user's hash, then refused), so the
//! time an answer takes does not tell which user names exist.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use sha2::{Digest, Sha512};
use subtle::ConstantTimeEq;

use crate::error::Error;

/// The iteration count mosquitto_passwd uses for `sha512-pbkdf2`, and ours.
pub const DEFAULT_PBKDF2_ITERATIONS: u32 = 101;

/// The most PBKDF2 iterations a file may ask for: more would let a file make every
/// CONNECT cost seconds.
pub const MAX_PBKDF2_ITERATIONS: u32 = 10_000_000;

/// The salt length mosquitto_passwd writes.
const SALT_LEN: usize = 12;

/// How a password is hashed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum HashKind {
    /// `$6$`: one SHA-512 of password and salt (mosquitto's `sha512`; weak, read for
    /// old files).
    Sha512,
    /// `$7$`: PBKDF2-HMAC-SHA512 with this many iterations (mosquitto's `sha512-pbkdf2`).
    Sha512Pbkdf2 {
        /// The iteration count.
        iterations: u32,
    },
    /// `$argon2id$`: Argon2id with the argon2 crate's default parameters.
    Argon2id,
}

impl HashKind {
    /// The kind `mosquitto_passwd -H` names: `sha512`, `sha512-pbkdf2` or `argon2id`.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "sha512" => Some(Self::Sha512),
            "sha512-pbkdf2" => Some(Self::Sha512Pbkdf2 {
                iterations: DEFAULT_PBKDF2_ITERATIONS,
            }),
            "argon2id" => Some(Self::Argon2id),
            _ => None,
        }
    }
}

/// A stored password hash, decoded.
#[derive(Clone, PartialEq, Eq)]
enum StoredHash {
    Sha512 {
        salt: Vec<u8>,
        hash: Vec<u8>,
    },
    Pbkdf2 {
        iterations: u32,
        salt: Vec<u8>,
        hash: Vec<u8>,
    },
    Argon2id {
        phc: String,
    },
}

impl StoredHash {
    fn parse(text: &str) -> Result<Self, String> {
        if let Some(rest) = text.strip_prefix("$6$") {
            let (salt, hash) = rest.split_once('$').ok_or("a $6$ hash is $6$salt$hash")?;
            let (salt, hash) = (decode(salt, "salt")?, decode(hash, "hash")?);
            if hash.len() != 64 {
                return Err(format!("a $6$ hash has 64 bytes, this one {}", hash.len()));
            }
            return Ok(Self::Sha512 { salt, hash });
        }
        if let Some(rest) = text.strip_prefix("$7$") {
            let mut parts = rest.split('$');
            let (Some(iterations), Some(salt), Some(hash), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err("a $7$ hash is $7$iterations$salt$hash".to_owned());
            };
            let iterations: u32 = iterations
                .parse()
                .ok()
                .filter(|n| (1..=MAX_PBKDF2_ITERATIONS).contains(n))
                .ok_or(format!(
                    "the iteration count must be 1 to {MAX_PBKDF2_ITERATIONS}, not {iterations:?}"
                ))?;
            let (salt, hash) = (decode(salt, "salt")?, decode(hash, "hash")?);
            if hash.len() != 64 {
                return Err(format!("a $7$ hash has 64 bytes, this one {}", hash.len()));
            }
            return Ok(Self::Pbkdf2 {
                iterations,
                salt,
                hash,
            });
        }
        if text.starts_with("$argon2id$") {
            argon2::PasswordHash::new(text)
                .map_err(|e| format!("not a valid argon2id PHC string ({e})"))?;
            return Ok(Self::Argon2id {
                phc: text.to_owned(),
            });
        }
        if text.starts_with('$') {
            return Err("an unknown hash type (expected $6$, $7$ or $argon2id$)".to_owned());
        }
        Err("not a hash: a plain-text password? (hash the file with `passwd -U`)".to_owned())
    }

    fn verify(&self, password: &[u8]) -> bool {
        match self {
            Self::Sha512 { salt, hash } => {
                let computed = Sha512::new()
                    .chain_update(password)
                    .chain_update(salt)
                    .finalize();
                computed.as_slice().ct_eq(hash).into()
            }
            Self::Pbkdf2 {
                iterations,
                salt,
                hash,
            } => {
                let mut computed = [0_u8; 64];
                pbkdf2::pbkdf2_hmac::<Sha512>(password, salt, *iterations, &mut computed);
                computed.as_slice().ct_eq(hash).into()
            }
            Self::Argon2id { phc } => {
                use argon2::PasswordVerifier as _;
                argon2::Argon2::default()
                    .verify_password(password, phc.as_str())
                    .is_ok()
            }
        }
    }
}

fn refused(what: &str, bad: &[BadLine]) -> Error {
    let lines: Vec<String> = bad.iter().map(ToString::to_string).collect();
    Error::authentication(format!("{what}: {}", lines.join("; ")))
}

fn decode(text: &str, what: &str) -> Result<Vec<u8>, String> {
    BASE64
        .decode(text)
        .map_err(|e| format!("the {what} is not base64 ({e})"))
}

/// Hashes `password` as `kind` with a fresh random salt, in the format mosquitto reads.
///
/// # Errors
/// an authentication error if the system's random source fails.
///
/// # Examples
/// ```
/// use mqtt_common::auth::{HashKind, PasswordFile, hash_password};
///
/// let line = format!("alice:{}\n", hash_password(b"s3cret", HashKind::Sha512Pbkdf2 { iterations: 101 })?);
/// let file = PasswordFile::parse(&line)?;
/// assert!(file.verify("alice", b"s3cret"));
/// assert!(!file.verify("alice", b"guess"));
/// # Ok::<(), mqtt_common::Error>(())
/// ```
pub fn hash_password(password: &[u8], kind: HashKind) -> Result<String, Error> {
    let mut salt = [0_u8; SALT_LEN];
    getrandom::fill(&mut salt)
        .map_err(|e| Error::authentication(format!("cannot make a salt: {e}")))?;
    Ok(match kind {
        HashKind::Sha512 => {
            let hash = Sha512::new()
                .chain_update(password)
                .chain_update(salt)
                .finalize();
            format!("$6${}${}", BASE64.encode(salt), BASE64.encode(hash))
        }
        HashKind::Sha512Pbkdf2 { iterations } => {
            let iterations = iterations.clamp(1, MAX_PBKDF2_ITERATIONS);
            let mut hash = [0_u8; 64];
            pbkdf2::pbkdf2_hmac::<Sha512>(password, &salt, iterations, &mut hash);
            format!(
                "$7${iterations}${}${}",
                BASE64.encode(salt),
                BASE64.encode(hash)
            )
        }
        HashKind::Argon2id => {
            use argon2::PasswordHasher as _;
            let mut salt = [0_u8; 16];
            getrandom::fill(&mut salt)
                .map_err(|e| Error::authentication(format!("cannot make a salt: {e}")))?;
            argon2::Argon2::default()
                .hash_password_with_salt(password, &salt)
                .map_err(|e| Error::authentication(format!("cannot hash the password: {e}")))?
                .to_string()
        }
    })
}

/// A bad line of a password file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// Its number, from 1.
    pub line: usize,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for BadLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

/// The users of a mosquitto password file, with their hashes.
///
/// The hashes never appear in `Debug`.
#[derive(Clone, Default)]
pub struct PasswordFile {
    users: Vec<(String, StoredHash)>,
}

impl fmt::Debug for PasswordFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordFile")
            .field("users", &self.usernames().collect::<Vec<_>>())
            .finish()
    }
}

impl PasswordFile {
    /// Reads a password file's text.
    ///
    /// # Errors
    /// an authentication error listing every bad line with its number (see
    /// [`PasswordFile::check`] for the lines themselves); no user of a bad file is kept.
    pub fn parse(text: &str) -> Result<Self, Error> {
        Self::check(text).map_err(|bad| refused("bad password file", &bad))
    }

    /// Reads a password file's text, returning its bad lines if it has any.
    ///
    /// # Errors
    /// every bad line, with its number and what is wrong with it.
    pub fn check(text: &str) -> Result<Self, Vec<BadLine>> {
        let mut users: Vec<(String, StoredHash)> = Vec::new();
        let mut bad = Vec::new();
        for (index, raw) in text.split('\n').enumerate() {
            let line = raw.strip_suffix('\r').unwrap_or(raw);
            if line.trim().is_empty() || line.starts_with('#') {
                continue;
            }
            let mut fail = |reason: String| {
                bad.push(BadLine {
                    line: index + 1,
                    reason,
                });
            };
            let Some((username, hash)) = line.split_once(':') else {
                fail("expected username:hash".to_owned());
                continue;
            };
            // Mosquitto trims the blanks around both halves: ` alice : hash` is alice's.
            let (username, hash) = (trim_blanks(username), trim_blanks(hash));
            if username.is_empty() {
                fail("the user name is empty".to_owned());
                continue;
            }
            if username.contains('\0') {
                fail("the user name holds a NUL character".to_owned());
                continue;
            }
            if users.iter().any(|(known, _)| known == username) {
                fail(format!("user {username:?} is named twice"));
                continue;
            }
            match StoredHash::parse(hash) {
                Ok(stored) => users.push((username.to_owned(), stored)),
                Err(reason) => fail(format!("user {username:?}: {reason}")),
            }
        }
        if bad.is_empty() {
            Ok(Self { users })
        } else {
            Err(bad)
        }
    }

    /// Reads the password file at `path`.
    ///
    /// # Errors
    /// an authentication error if the file cannot be read, is not UTF-8, or has bad lines.
    pub fn load(path: &std::path::Path) -> Result<Self, Error> {
        let bytes = std::fs::read(path).map_err(|e| {
            Error::authentication(format!(
                "cannot read the password file {}: {e}",
                path.display()
            ))
        })?;
        let text = String::from_utf8(bytes).map_err(|_| {
            Error::authentication(format!("the password file {} is not UTF-8", path.display()))
        })?;
        Self::check(&text)
            .map_err(|bad| refused(&format!("bad password file {}", path.display()), &bad))
    }

    /// Whether `password` is the password of `username`; false for an unknown user,
    /// after as much work as a wrong password costs.
    pub fn verify(&self, username: &str, password: &[u8]) -> bool {
        match self.users.iter().find(|(known, _)| known == username) {
            Some((_, stored)) => stored.verify(password),
            None => {
                // The same work as a wrong password, then a refusal.
                if let Some((_, stored)) = self.users.first() {
                    let _ = stored.verify(password);
                }
                false
            }
        }
    }

    /// Whether the file names this user.
    pub fn contains(&self, username: &str) -> bool {
        self.users.iter().any(|(known, _)| known == username)
    }

    /// The user names, in file order.
    pub fn usernames(&self) -> impl Iterator<Item = &str> {
        self.users.iter().map(|(name, _)| name.as_str())
    }

    /// How many users the file has.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether the file has no user.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }
}

/// A password file's field without the white space around it, as mosquitto's
/// `misc__trimblanks` leaves it.
fn trim_blanks(field: &str) -> &str {
    field.trim_matches(|c: char| c.is_ascii_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blanks_around_names_and_hashes_are_not_part_of_them() {
        let hash = hash_password(b"pw", HashKind::Sha512).unwrap();
        let text = format!(" lead:{hash}\ntrail :{hash}\n\ttab:{hash}\nsp: {hash} \n");
        let file = PasswordFile::parse(&text).unwrap();
        assert_eq!(
            file.usernames().collect::<Vec<_>>(),
            ["lead", "trail", "tab", "sp"]
        );
        for user in ["lead", "trail", "tab", "sp"] {
            assert!(file.verify(user, b"pw"), "{user}");
        }
        assert!(!file.verify(" lead", b"pw"));
        // A name of blanks only is an empty name: a bad line.
        assert!(PasswordFile::check(&format!("  :{hash}\n")).is_err());
    }

    #[test]
    fn each_kind_round_trips_and_refuses_a_wrong_password() {
        for kind in [
            HashKind::Sha512,
            HashKind::Sha512Pbkdf2 { iterations: 7 },
            HashKind::Argon2id,
        ] {
            let hash = hash_password(b"pw", kind).unwrap();
            let file = PasswordFile::parse(&format!("# users\n\nu:{hash}\r\n")).unwrap();
            assert!(file.verify("u", b"pw"), "{kind:?}");
            assert!(!file.verify("u", b"pW"), "{kind:?}");
            assert!(!file.verify("v", b"pw"), "{kind:?}");
        }
    }

    #[test]
    fn bad_lines_are_numbered_and_refuse_the_file() {
        let good = hash_password(b"pw", HashKind::Sha512).unwrap();
        let text = format!(
            "a:{good}\nplain:secret\nnohash\n:{good}\na:{good}\nb:$7$0$AAAA$AAAA\nc:$9$x\nd:$6$!!$AA\n"
        );
        let bad = PasswordFile::check(&text).unwrap_err();
        let lines: Vec<usize> = bad.iter().map(|b| b.line).collect();
        assert_eq!(lines, [2, 3, 4, 5, 6, 7, 8]);
        assert!(bad[0].reason.contains("plain-text"));
        let err = PasswordFile::parse(&text).unwrap_err();
        assert!(err.to_string().contains("line 2: user \"plain\""));
    }

    #[test]
    fn a_user_without_a_password_is_never_made() {
        // CVE-2018-12551: a line that does not parse must not become a user.
        for text in ["bob\n", "bob:\n", "bob:$6$\n", "bob:$7$101$$\n"] {
            assert!(PasswordFile::check(text).is_err(), "{text:?}");
        }
    }
}

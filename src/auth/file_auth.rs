//! [`FileAuth`]: an auth provider on mosquitto's password and ACL files, reloadable.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError, RwLock};

use bytes::Bytes;

use crate::auth::acl_file::AclFile;
use crate::auth::certificate::CertificateIdentity;
use crate::auth::password_file::PasswordFile;
use crate::auth::{Action, AuthCredentials, AuthInterface};
use crate::error::Error;

/// What the files say, swapped whole on a reload.
#[derive(Debug, Default)]
struct Files {
    passwords: Option<PasswordFile>,
    acl: Option<AclFile>,
}

/// Authentication and authorization as mosquitto 2.0 does them with `password_file`,
/// `acl_file` and `allow_anonymous`.
///
/// A client without a user name is accepted only if anonymous clients are allowed; an
/// empty user name counts as none, as mosquitto counts it (the anonymous rules of the
/// ACL file apply to it). One with a user name, when there is a password file, only if the file holds that user
/// and the password matches (no password is checked as the empty password); without a
/// password file it is accepted, as mosquitto does. Without an ACL file every action
/// is allowed; with one, [`AclFile::allows`] decides.
///
/// [`FileAuth::reload`] reads both files again and swaps them in together; if either
/// is bad, the old rules stay and the error says why.
///
/// # Examples
/// ```
/// use mqtt_common::auth::{FileAuth, HashKind, hash_password};
/// use mqtt_common::{Action, AuthCredentials, AuthInterface};
///
/// let dir = std::env::temp_dir().join(format!("mqtt-common-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let hash = hash_password(b"s3cret", HashKind::Sha512Pbkdf2 { iterations: 101 })?;
/// std::fs::write(dir.join("passwd"), format!("alice:{hash}\n"))?;
/// std::fs::write(dir.join("acl"), "user alice\ntopic readwrite alice/#\n")?;
///
/// let auth = FileAuth::new(false)
///     .with_password_file(dir.join("passwd"))?
///     .with_acl_file(dir.join("acl"))?;
/// let alice = AuthCredentials::new("phone")?.with_username("alice")?;
/// assert!(auth.authenticate(&alice.clone().with_password(b"s3cret".as_slice()))?);
/// assert!(!auth.authenticate(&alice.clone().with_password(b"guess".as_slice()))?);
/// assert!(auth.authorize(&alice, "alice/phone", Action::Publish)?);
/// assert!(!auth.authorize(&alice, "bob/phone", Action::Publish)?);
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct FileAuth {
    allow_anonymous: bool,
    password_path: Option<PathBuf>,
    acl_path: Option<PathBuf>,
    certificate: Option<CertificateIdentity>,
    /// The names certificates gave: `authorize` runs for every delivered message, and
    /// reading a certificate costs microseconds.
    names: Mutex<HashMap<Bytes, String>>,
    files: RwLock<Arc<Files>>,
}

/// How many certificates' names are remembered before the memory starts over.
const REMEMBERED_NAMES: usize = 1024;

impl FileAuth {
    /// A provider without files yet: anonymous clients as `allow_anonymous` says, every
    /// named user accepted, every action allowed.
    pub fn new(allow_anonymous: bool) -> Self {
        Self {
            allow_anonymous,
            password_path: None,
            acl_path: None,
            certificate: None,
            names: Mutex::new(HashMap::new()),
            files: RwLock::new(Arc::new(Files::default())),
        }
    }

    /// Checks passwords against the password file at `path`.
    ///
    /// # Errors
    /// an authentication error if the file cannot be read or has bad lines (each one
    /// named with its number).
    pub fn with_password_file(mut self, path: impl AsRef<Path>) -> Result<Self, Error> {
        self.password_path = Some(path.as_ref().to_path_buf());
        self.reload()?;
        Ok(self)
    }

    /// Decides actions by the ACL file at `path`.
    ///
    /// # Errors
    /// an authorization error if the file cannot be read or has bad lines.
    pub fn with_acl_file(mut self, path: impl AsRef<Path>) -> Result<Self, Error> {
        self.acl_path = Some(path.as_ref().to_path_buf());
        self.reload()?;
        Ok(self)
    }

    /// Takes the user name from the client certificate, as mosquitto's
    /// `use_identity_as_username` or `use_subject_as_username` do: a client without a
    /// certificate is refused, the password file is not consulted (the TLS layer has
    /// verified the certificate), and the ACL decides by the certificate's name.
    #[must_use]
    pub fn with_certificate_identity(mut self, identity: CertificateIdentity) -> Self {
        self.certificate = Some(identity);
        self
    }

    /// The user name the provider decides by: the certificate's, or the one given.
    ///
    /// # Errors
    /// an authentication error if the certificate identity is used and the
    /// certificate is missing or gives no name.
    pub fn username_of(&self, credentials: &AuthCredentials) -> Result<Option<String>, Error> {
        match self.certificate {
            None => Ok(named(credentials).map(str::to_owned)),
            Some(identity) => {
                let certificate = credentials
                    .certificate()
                    .ok_or_else(|| Error::authentication("no client certificate"))?;
                let mut names = self.names.lock().unwrap_or_else(PoisonError::into_inner);
                if let Some(name) = names.get(certificate) {
                    return Ok(Some(name.clone()));
                }
                let name = identity.username(certificate)?;
                if names.len() >= REMEMBERED_NAMES {
                    names.clear();
                }
                names.insert(certificate.clone(), name.clone());
                Ok(Some(name))
            }
        }
    }

    /// Reads the files again and uses them from now on, both or neither.
    ///
    /// # Errors
    /// the error of a file that cannot be read or has bad lines; the rules read before
    /// stay in force.
    pub fn reload(&self) -> Result<(), Error> {
        let fresh = Files {
            passwords: self
                .password_path
                .as_deref()
                .map(PasswordFile::load)
                .transpose()?,
            acl: self.acl_path.as_deref().map(AclFile::load).transpose()?,
        };
        *self.files.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(fresh);
        Ok(())
    }

    fn files(&self) -> Arc<Files> {
        Arc::clone(&self.files.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// The users of the password file in force, if there is one.
    pub fn passwords(&self) -> Option<PasswordFile> {
        self.files().passwords.clone()
    }

    /// The password file's path, if there is one.
    pub fn password_path(&self) -> Option<&Path> {
        self.password_path.as_deref()
    }

    /// The ACL file's path, if there is one.
    pub fn acl_path(&self) -> Option<&Path> {
        self.acl_path.as_deref()
    }

    /// Whether clients without a user name are accepted.
    pub fn allow_anonymous(&self) -> bool {
        self.allow_anonymous
    }

    /// Where the user name comes from when it is the client certificate's.
    pub fn certificate_identity(&self) -> Option<CertificateIdentity> {
        self.certificate
    }

    /// Whether the provider knows this client: a certificate that gives a name, in
    /// certificate mode; else a user of the password file (every user without one), or
    /// an anonymous client if those are allowed.
    pub fn knows_client(&self, credentials: &AuthCredentials) -> bool {
        if self.certificate.is_some() {
            return self.username_of(credentials).is_ok();
        }
        match (named(credentials), &self.files().passwords) {
            (Some(name), Some(passwords)) => passwords.contains(name),
            (Some(_), None) => true,
            (None, _) => self.allow_anonymous,
        }
    }
}

/// The user name of a client that gave a non-empty one: mosquitto treats an empty user
/// name as none (an anonymous client).
fn named(credentials: &AuthCredentials) -> Option<&str> {
    credentials.username().filter(|name| !name.is_empty())
}

impl AuthInterface for FileAuth {
    fn authenticate(&self, credentials: &AuthCredentials) -> Result<bool, Error> {
        if self.certificate.is_some() {
            return Ok(self.username_of(credentials).is_ok());
        }
        let Some(username) = named(credentials) else {
            return Ok(self.allow_anonymous);
        };
        let files = self.files();
        let Some(passwords) = &files.passwords else {
            return Ok(true);
        };
        let password = credentials.password().map_or(&[][..], |p| p.as_ref());
        Ok(passwords.verify(username, password))
    }

    fn authorize(
        &self,
        credentials: &AuthCredentials,
        topic: &str,
        action: Action,
    ) -> Result<bool, Error> {
        let files = self.files();
        let Some(acl) = files.acl.as_ref() else {
            return Ok(true);
        };
        let Ok(username) = self.username_of(credentials) else {
            return Ok(false);
        };
        Ok(acl.allows(credentials.client_id(), username.as_deref(), topic, action))
    }

    fn knows(&self, credentials: &AuthCredentials) -> Result<bool, Error> {
        Ok(self.knows_client(credentials))
    }
}

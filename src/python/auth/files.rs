//! `PasswordFile`, `AclFile`, `hash_password` and `FileAuth` for Python: thin wrappers; the
//! hashing runs without the GIL.

use std::sync::Arc;

use pyo3::prelude::*;
use pyo3::types::PyList;

use super::{PyAuthCredentials, PyAuthInterface};
use crate::auth::{
    AclFile, AuthChain, AuthInterface, CertificateIdentity, ChainRule, DEFAULT_PBKDF2_ITERATIONS,
    FileAuth, HashKind, PasswordFile,
};
use crate::python::convert::{
    CertificateIdentityArg, ChainRuleArg, HashKindArg, UseCertificate, choice, extract_bytes,
    extract_str, int_arg, path_arg, wrong_type,
};

/// The users of a mosquitto password file.
///
/// Lines are ``username:hash``, with ``$6$``, ``$7$`` or ``$argon2id$`` hashes. A file
/// with any bad line is refused whole with an AuthenticationError that names every bad
/// line by number: no line that fails to parse ever becomes a user.
#[pyclass(frozen, name = "PasswordFile", module = "mqtt_common.src.auth")]
pub(crate) struct PyPasswordFile {
    inner: Arc<PasswordFile>,
}

#[pymethods]
impl PyPasswordFile {
    /// Read the password file at ``path``.
    #[staticmethod]
    fn load(
        py: Python<'_>,
        #[pyo3(from_py_with = path_arg)] path: std::path::PathBuf,
    ) -> PyResult<Self> {
        let file = py.detach(|| PasswordFile::load(&path))?;
        Ok(Self {
            inner: Arc::new(file),
        })
    }

    /// Read a password file's text.
    #[staticmethod]
    fn parse(text: &Bound<'_, PyAny>) -> PyResult<Self> {
        let text = extract_str("text", text)?;
        Ok(Self {
            inner: Arc::new(PasswordFile::parse(text)?),
        })
    }

    /// Whether ``password`` is the password of ``username``.
    ///
    /// False for an unknown user, after as much work as a wrong password costs.
    fn verify(
        &self,
        py: Python<'_>,
        username: &Bound<'_, PyAny>,
        password: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        let username = extract_str("username", username)?.to_owned();
        let password = extract_bytes("password", password)?;
        let password = password.as_bytes().to_vec();
        let file = Arc::clone(&self.inner);
        Ok(py.detach(move || file.verify(&username, &password)))
    }

    /// The user names, in file order.
    #[getter]
    fn usernames<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, self.inner.usernames())
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __contains__(&self, username: &Bound<'_, PyAny>) -> bool {
        username
            .extract::<&str>()
            .is_ok_and(|name| self.inner.contains(name))
    }

    fn __repr__(&self) -> String {
        format!("<PasswordFile users={}>", self.inner.len())
    }
}

/// Hash a password as mosquitto_passwd does, with a fresh random salt.
///
/// ``kind`` is "sha512-pbkdf2" (``$7$``, mosquitto's default; ``iterations`` applies,
/// brought within 1 to 10,000,000), "argon2id" (mosquitto 2.1 reads it, 2.0 does not)
/// or "sha512" (``$6$``, weak: for old files only).
#[pyfunction]
#[pyo3(signature = (password, kind="sha512-pbkdf2", *, iterations=DEFAULT_PBKDF2_ITERATIONS))]
pub(crate) fn hash_password(
    py: Python<'_>,
    password: &Bound<'_, PyAny>,
    #[pyo3(from_py_with = choice::<HashKindArg>)] kind: &'static str,
    #[pyo3(from_py_with = iterations_arg)] iterations: u32,
) -> PyResult<String> {
    let kind = match kind {
        "argon2id" => HashKind::Argon2id,
        "sha512" => HashKind::Sha512,
        _ => HashKind::Sha512Pbkdf2 { iterations },
    };
    let password = extract_bytes("password", password)?.as_bytes().to_vec();
    Ok(py.detach(move || crate::auth::hash_password(&password, kind))?)
}

/// The rules of a mosquitto ACL file, deciding as mosquitto 2.0 does.
///
/// A file with any bad line is refused whole with an AuthorizationError that names every
/// bad line by number.
#[pyclass(frozen, name = "AclFile", module = "mqtt_common.src.auth")]
pub(crate) struct PyAclFile {
    inner: Arc<AclFile>,
}

#[pymethods]
impl PyAclFile {
    /// Read the ACL file at ``path``.
    #[staticmethod]
    fn load(#[pyo3(from_py_with = path_arg)] path: std::path::PathBuf) -> PyResult<Self> {
        Ok(Self {
            inner: Arc::new(AclFile::load(&path)?),
        })
    }

    /// Read an ACL file's text.
    #[staticmethod]
    fn parse(text: &Bound<'_, PyAny>) -> PyResult<Self> {
        let text = extract_str("text", text)?;
        Ok(Self {
            inner: Arc::new(AclFile::parse(text)?),
        })
    }

    /// Whether a client may perform ``action`` on ``topic`` (a filter for SUBSCRIBE).
    #[pyo3(signature = (client_id, username, topic, action))]
    fn allows(
        &self,
        client_id: &Bound<'_, PyAny>,
        username: Option<&Bound<'_, PyAny>>,
        topic: &Bound<'_, PyAny>,
        action: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        let client_id = extract_str("client_id", client_id)?;
        let username = username.map(|u| extract_str("username", u)).transpose()?;
        let topic = extract_str("topic", topic)?;
        Ok(self
            .inner
            .allows(client_id, username, topic, action_of(action)?))
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn __repr__(&self) -> String {
        format!("<AclFile rules={}>", self.inner.len())
    }
}

/// Mosquitto 2.0's authentication and authorization, from the same files.
///
/// It decides as mosquitto does with ``password_file``, ``acl_file`` and
/// ``allow_anonymous``. A client without a user name is accepted only with
/// ``allow_anonymous``. One with a user name, when there is a password file, only if
/// the file holds it and the password matches; without a password file it is accepted,
/// as mosquitto does. Without an ACL file every action is allowed. With
/// ``use_certificate`` ("common_name" or "subject") the user name is the client
/// certificate's, as mosquitto's ``use_identity_as_username`` and
/// ``use_subject_as_username`` make it. ``reload()`` reads both files again; if either is
/// bad it raises and the old rules stay.
#[pyclass(
    extends = PyAuthInterface,
    subclass,
    frozen,
    name = "FileAuth",
    module = "mqtt_common.src.auth"
)]
pub(crate) struct PyFileAuth {
    inner: Arc<FileAuth>,
}

#[pymethods]
impl PyFileAuth {
    #[new]
    #[pyo3(signature = (password_file=None, acl_file=None, *, allow_anonymous=false, use_certificate=None))]
    fn new(
        py: Python<'_>,
        password_file: Option<&Bound<'_, PyAny>>,
        acl_file: Option<&Bound<'_, PyAny>>,
        allow_anonymous: bool,
        use_certificate: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<PyClassInitializer<Self>> {
        let password_file = password_file.map(path_arg).transpose()?;
        let acl_file = acl_file.map(path_arg).transpose()?;
        let identity = use_certificate
            .map(choice::<UseCertificate>)
            .transpose()?
            .map(identity_named);
        let auth = py.detach(|| {
            let mut auth = FileAuth::new(allow_anonymous);
            if let Some(identity) = identity {
                auth = auth.with_certificate_identity(identity);
            }
            if let Some(path) = password_file {
                auth = auth.with_password_file(path)?;
            }
            if let Some(path) = acl_file {
                auth = auth.with_acl_file(path)?;
            }
            Ok::<_, crate::error::Error>(auth)
        })?;
        Ok(
            PyClassInitializer::from(PyAuthInterface).add_subclass(Self {
                inner: Arc::new(auth),
            }),
        )
    }

    /// Whether the credentials are accepted.
    fn authenticate(&self, py: Python<'_>, credentials: &Bound<'_, PyAny>) -> PyResult<bool> {
        let credentials = credentials_of(credentials)?;
        let auth = Arc::clone(&self.inner);
        Ok(py.detach(move || auth.authenticate(&credentials))?)
    }

    /// Whether the client may perform ``action`` on ``topic``.
    fn authorize(
        &self,
        credentials: &Bound<'_, PyAny>,
        topic: &Bound<'_, PyAny>,
        action: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        authorize_with(&*self.inner, credentials, topic, action)
    }

    /// Whether the provider knows the client.
    ///
    /// It knows a user of its password file (any user without one), an anonymous client
    /// if allowed, or a certificate that gives a name.
    fn knows(&self, credentials: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(self.inner.knows_client(&credentials_of(credentials)?))
    }

    /// Where the user name comes from: "common_name", "subject", or None (the client's).
    #[getter]
    fn use_certificate(&self) -> Option<&'static str> {
        self.inner
            .certificate_identity()
            .map(|identity| match identity {
                CertificateIdentity::Subject => "subject",
                _ => "common_name",
            })
    }

    /// Read the files again; keep the old rules if either new file is bad.
    fn reload(&self, py: Python<'_>) -> PyResult<()> {
        let auth = Arc::clone(&self.inner);
        Ok(py.detach(move || auth.reload())?)
    }

    /// The users of the password file in force, or None without one.
    #[getter]
    fn passwords(&self) -> Option<PyPasswordFile> {
        self.inner.passwords().map(|file| PyPasswordFile {
            inner: Arc::new(file),
        })
    }

    /// The password file's path, or None.
    #[getter]
    fn password_file(&self) -> Option<std::path::PathBuf> {
        self.inner.password_path().map(std::path::Path::to_path_buf)
    }

    /// The ACL file's path, or None.
    #[getter]
    fn acl_file(&self) -> Option<std::path::PathBuf> {
        self.inner.acl_path().map(std::path::Path::to_path_buf)
    }

    /// Whether clients without a user name are accepted.
    #[getter]
    fn allow_anonymous(&self) -> bool {
        self.inner.allow_anonymous()
    }

    fn __repr__(slf: &Bound<'_, Self>) -> PyResult<String> {
        let this = slf.get();
        let shown = |path: Option<&std::path::Path>| {
            path.map_or_else(
                || "None".to_owned(),
                |p| format!("{:?}", p.display().to_string()),
            )
        };
        Ok(format!(
            "<{} password_file={} acl_file={} allow_anonymous={}>",
            slf.get_type().name()?,
            shown(this.inner.password_path()),
            shown(this.inner.acl_path()),
            if this.inner.allow_anonymous() {
                "True"
            } else {
                "False"
            }
        ))
    }
}

/// `authorize` of a Rust provider with Python's arguments, each checked.
fn authorize_with(
    auth: &dyn AuthInterface,
    credentials: &Bound<'_, PyAny>,
    topic: &Bound<'_, PyAny>,
    action: &Bound<'_, PyAny>,
) -> PyResult<bool> {
    let credentials = credentials_of(credentials)?;
    let topic = extract_str("topic", topic)?;
    Ok(auth.authorize(&credentials, topic, action_of(action)?)?)
}

fn credentials_of(obj: &Bound<'_, PyAny>) -> PyResult<crate::auth::AuthCredentials> {
    Ok(obj
        .cast::<PyAuthCredentials>()
        .map_err(|_| wrong_type("credentials", "AuthCredentials", obj))?
        .get()
        .inner
        .clone())
}

fn action_of(obj: &Bound<'_, PyAny>) -> PyResult<crate::auth::Action> {
    obj.extract::<u8>()
        .ok()
        .and_then(crate::auth::Action::from_u8)
        .ok_or_else(|| wrong_type("action", "Action", obj).into())
}

fn iterations_arg(obj: &Bound<'_, PyAny>) -> PyResult<u32> {
    Ok(int_arg::<u32>("iterations", obj)?)
}

/// Return the user name a client certificate (DER or PEM) gives, as mosquitto does.
///
/// ``identity`` is "common_name" (the subject's first CN: ``use_identity_as_username``)
/// or "subject" (the whole subject in RFC 2253 form, as OpenSSL prints it:
/// ``use_subject_as_username``). A missing name, or one that is not UTF-8, raises
/// AuthenticationError.
#[pyfunction]
#[pyo3(signature = (certificate, identity="common_name"))]
pub(crate) fn certificate_username(
    certificate: &Bound<'_, PyAny>,
    #[pyo3(from_py_with = choice::<CertificateIdentityArg>)] identity: &'static str,
) -> PyResult<String> {
    let certificate = extract_bytes("certificate", certificate)?;
    Ok(identity_named(identity).username(certificate.as_bytes())?)
}

fn identity_named(name: &str) -> CertificateIdentity {
    match name {
        "subject" => CertificateIdentity::Subject,
        _ => CertificateIdentity::CommonName,
    }
}

/// Several providers as one.
///
/// With ``rule="first"`` the first provider that knows a client decides for it; with
/// ``rule="all"`` every provider must agree.
#[pyclass(
    extends = PyAuthInterface,
    subclass,
    frozen,
    name = "AuthChain",
    module = "mqtt_common.src.auth"
)]
pub(crate) struct PyAuthChain {
    inner: AuthChain,
    providers: Vec<Py<PyAny>>,
}

#[pymethods]
impl PyAuthChain {
    #[new]
    #[pyo3(signature = (providers, *, rule="first"))]
    fn new(
        providers: &Bound<'_, PyAny>,
        #[pyo3(from_py_with = choice::<ChainRuleArg>)] rule: &'static str,
    ) -> PyResult<PyClassInitializer<Self>> {
        let mut objects = Vec::new();
        let mut wrapped: Vec<Arc<dyn AuthInterface>> = Vec::new();
        for provider in providers.try_iter()? {
            let provider = provider?;
            wrapped.push(Arc::new(super::PythonAuth::new(&provider)?));
            objects.push(provider.unbind());
        }
        let rule = if rule == "all" {
            ChainRule::AllMustAgree
        } else {
            ChainRule::FirstThatKnows
        };
        Ok(
            PyClassInitializer::from(PyAuthInterface).add_subclass(Self {
                inner: AuthChain::new(wrapped, rule),
                providers: objects,
            }),
        )
    }

    /// Whether the credentials are accepted.
    fn authenticate(&self, credentials: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(self.inner.authenticate(&credentials_of(credentials)?)?)
    }

    /// Whether the client may perform ``action`` on ``topic``.
    fn authorize(
        &self,
        credentials: &Bound<'_, PyAny>,
        topic: &Bound<'_, PyAny>,
        action: &Bound<'_, PyAny>,
    ) -> PyResult<bool> {
        authorize_with(&self.inner, credentials, topic, action)
    }

    /// Whether any provider of the chain knows the client.
    fn knows(&self, credentials: &Bound<'_, PyAny>) -> PyResult<bool> {
        Ok(self.inner.knows(&credentials_of(credentials)?)?)
    }

    /// The providers, in the order they are asked.
    #[getter]
    fn providers<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, self.providers.iter().map(|p| p.bind(py)))
    }

    /// The rule: "first" or "all".
    #[getter]
    fn rule(&self) -> &'static str {
        match self.inner.rule() {
            ChainRule::AllMustAgree => "all",
            _ => "first",
        }
    }

    fn __repr__(&self) -> String {
        format!(
            "<AuthChain providers={} rule={:?}>",
            self.providers.len(),
            self.rule()
        )
    }
}

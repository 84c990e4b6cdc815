//! The PyO3 bindings: the `mqtt_common._core` extension module.
//!
//! Thin by design: each function extracts its arguments (the one place where Python's
//! lenient inputs become Rust types), calls the core and converts the result. Protocol
//! rules live in the core modules.

mod auth;
#[cfg(feature = "redis")]
mod cluster;
mod codec;
mod constants;
mod convert;
mod errors;
mod implementation;
mod message;
mod network;
mod packet;
mod protocol;
pub(crate) mod router;
mod runtime;
mod session;
mod storage;
mod topic;

pub use auth::PythonAuth;
pub use errors::PythonException;
pub use network::{PythonNetwork, network_from_python};
pub use session::{PythonSessionStore, session_store_from_python};
pub use storage::{PythonStorage, storage_from_python};

use pyo3::prelude::*;

/// Makes this build's extension module importable as `mqtt_common._core` in an embedded
/// interpreter: for Rust programs (and tests) that run Python inside rather than being
/// imported by it. The `mqtt_common` Python package must be on `sys.path` too.
///
/// # Errors
/// Any error from building the module or from `sys.modules`.
pub fn register_embedded(py: Python<'_>) -> PyResult<()> {
    let module = pyo3::wrap_pymodule!(_core)(py);
    py.import("sys")?
        .getattr("modules")?
        .set_item("mqtt_common._core", module)
}

/// The extension module, re-exported by the `mqtt_common` package.
#[pymodule]
mod _core {
    #[cfg(feature = "auth-files")]
    #[pymodule_export]
    use super::auth::{
        PyAclFile, PyAuthChain, PyFileAuth, PyPasswordFile, certificate_username, hash_password,
    };
    #[pymodule_export]
    use super::auth::{PyAuthCredentials, PyAuthInterface};
    #[pymodule_export]
    use super::codec::{PyDecoder, decode, encode};
    #[pymodule_export]
    use super::constants::reason_code_is_error;
    #[pymodule_export]
    use super::message::{PyMessage, PyPublishProperties, PyWill};
    #[pymodule_export]
    use super::network::PyNetworkInterface;
    #[pymodule_export]
    use super::packet::{
        PyAuth, PyConnack, PyConnect, PyDisconnect, PyPingreq, PyPingresp, PyPuback, PyPubcomp,
        PyPublish, PyPubrec, PyPubrel, PySuback, PySubscribe, PyUnsuback, PyUnsubscribe,
    };
    #[pymodule_export]
    use super::protocol::{
        PyAuthStep, PyClosed, PyConnectRequest, PyDelivered, PyDiscarded, PyMetrics,
        PyMetricsSnapshot, PyServerConfig, PyServerConnection, PySubscribeRequest, PySysTopics,
        PyUnsubscribeRequest,
    };
    #[pymodule_export]
    use super::router::{PyChange, PyConnected, PyFact, PyForward, PyOutgoing, PyRouted, PyRouter};
    #[pymodule_export]
    use super::runtime::{PyCompletions, shutdown_runtime};
    #[pymodule_export]
    use super::session::{
        PyMemorySessionStore, PyNativeAsyncSessionStore, PySession, PySessionInterface,
    };
    #[pymodule_export]
    use super::storage::{PyMemoryStorage, PyNativeAsyncStorage, PyStorageInterface};
    #[pymodule_export]
    use super::topic::{
        PyDelivery, PySubscription, PySubscriptionIndex, merge_overlapping, topic_matches,
        validate_topic_filter, validate_topic_name,
    };
    #[cfg(feature = "redis")]
    #[pymodule_export]
    use super::{
        cluster::{
            PyAdopted, PyChangeLog, PyInbox, PyInboxEntry, PyJoined, PyLiveFeed, PyRedisNode,
        },
        session::PyAsyncRedisSessionStore,
        storage::PyAsyncRedisStorage,
    };
    #[cfg(feature = "sqlite")]
    #[pymodule_export]
    use super::{
        session::{PyAsyncSqliteSessionStore, PySqliteSessionStore},
        storage::{PyAsyncSqliteStorage, PySqliteStorage},
    };

    use pyo3::prelude::*;

    #[pymodule_init]
    fn init(module: &Bound<'_, PyModule>) -> PyResult<()> {
        module.add("__version__", env!("CARGO_PKG_VERSION"))?;
        super::constants::add_tables(module)
    }
}

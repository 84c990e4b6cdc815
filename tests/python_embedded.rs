//! Rust code driving Python implementations of the interfaces through the Rust traits,
//! in an embedded interpreter: calls, return values, a Python exception coming back
//! unchanged, `async def` and wrong return types refused with a `TypeError`.

use std::sync::Arc;

use mqtt_common::ErrorKind;
use mqtt_common::python::{
    PythonAuth, network_from_python, register_embedded, session_store_from_python,
    storage_from_python,
};
use mqtt_common::{
    Action, AuthCredentials, AuthInterface, Error, Message, ProtocolVersion, QoS, Subscription,
    TopicFilter, TopicName, Will,
};
use pyo3::exceptions::{PyKeyError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::PyModule;

const IMPLEMENTATIONS: &str = r#"
from mqtt_common.src.auth import Action, AuthCredentials, AuthInterface
from mqtt_common.src.storage import MemoryStorage, StorageInterface
from mqtt_common.utils.topic import topic_matches


class Auth(AuthInterface):
    def __init__(self):
        self.calls = []

    def authenticate(self, credentials):
        self.calls.append(("authenticate", credentials.client_id))
        if credentials.username == "explode":
            raise KeyError("no such user")
        return credentials.password == b"pw"

    def authorize(self, credentials, topic, action):
        self.calls.append(("authorize", topic, action))
        return action is Action.SUBSCRIBE and topic == "a/#"


try:
    class AsyncAuth(AuthInterface):
        async def authenticate(self, credentials):
            return True

        def authorize(self, credentials, topic, action):
            return True
except TypeError as refusal:
    ASYNC_REFUSED = str(refusal)


class LateAsyncAuth(AuthInterface):
    def authenticate(self, credentials):
        return True

    def authorize(self, credentials, topic, action):
        return "yes"


async def _authenticate_later(self, credentials):
    return True


# Assigned after the class was created, past the check that refuses `async def`: the
# adapter still refuses the coroutine it gets back.
LateAsyncAuth.authenticate = _authenticate_later


class Storage(StorageInterface):
    def __init__(self):
        self.retained = {}
        self.subs = {}

    def store_retained(self, message, arrived_at=None):
        self.retained[message.topic] = message

    def retained_messages(self):
        return [(m, 0.0) for m in self.retained.values()]

    def enqueue_entry(self, client_id, seq, message, enqueued_at):
        raise RuntimeError("queue backend down")

    def remove_queued(self, client_id, seq):
        return False

    def queued_messages(self, client_id):
        return []

    def get_retained(self, topic_filter):
        return [m for t, m in self.retained.items() if topic_matches(topic_filter, t)]

    def delete_retained(self, topic):
        return self.retained.pop(topic, None) is not None

    def enqueue(self, client_id, message):
        raise RuntimeError("queue backend down")

    def dequeue(self, client_id, limit=None):
        return ["not a message"]

    def queue_length(self, client_id):
        return 0

    def add_subscription(self, client_id, subscription):
        self.subs[(client_id, subscription.topic_filter)] = subscription
        return False

    def remove_subscription(self, client_id, topic_filter):
        return self.subs.pop((client_id, topic_filter), None) is not None

    def get_subscriptions(self, client_id):
        return [s for (c, _), s in self.subs.items() if c == client_id]

    def get_subscribers(self, topic):
        return [(c, s) for (c, f), s in self.subs.items() if topic_matches(f, topic)]

    def close(self):
        pass


from mqtt_common.src.session import Session, SessionInterface


class Sessions(SessionInterface):
    def __init__(self):
        self.sessions = {}
        self.wills = {}

    def create_session(self, client_id, clean_start, expiry_interval=0, protocol_version=4):
        present = client_id in self.sessions and not clean_start
        if not present:
            self.sessions[client_id] = Session(client_id, protocol_version, clean_start, expiry_interval)
        return self.sessions[client_id], present

    def get_session(self, client_id):
        return self.sessions.get(client_id)

    def save_session(self, session):
        self.sessions[session.client_id] = session

    def delete_session(self, client_id):
        return self.sessions.pop(client_id, None) is not None

    def set_will(self, client_id, will):
        self.wills[client_id] = will

    def get_will(self, client_id):
        return self.wills.get(client_id)

    def clear_will(self, client_id):
        return self.wills.pop(client_id, None)

    def client_ids(self):
        return sorted(self.sessions)


from mqtt_common.src.network import ConnectionState, NetworkInterface


class Network(NetworkInterface):
    def __init__(self):
        self.sent = []

    def send(self, client_id, packet):
        self.sent.append((client_id, packet))

    def disconnect(self, client_id, reason_code=None):
        self.sent.append((client_id, reason_code))

    def connection_state(self, client_id):
        return ConnectionState.CONNECTED if client_id == "c1" else 99

    def connected_clients(self):
        return ["c1"]


class NotAnInterface:
    def authenticate(self, credentials):
        return True
"#;

fn with_implementations<T>(f: impl FnOnce(Python<'_>, &Bound<'_, PyModule>) -> T) -> T {
    Python::initialize();
    Python::attach(|py| {
        register_embedded(py).unwrap();
        let package = concat!(env!("CARGO_MANIFEST_DIR"), "/python");
        let path = py.import("sys").unwrap().getattr("path").unwrap();
        if !path.contains(package).unwrap() {
            path.call_method1("insert", (0, package)).unwrap();
        }
        let module = PyModule::from_code(
            py,
            &std::ffi::CString::new(IMPLEMENTATIONS).unwrap(),
            c"implementations.py",
            c"implementations",
        )
        .unwrap();
        f(py, &module)
    })
}

fn python_error(err: Error) -> PyErr {
    assert_eq!(err.kind(), ErrorKind::Callback, "{err:?}");
    PyErr::from(err)
}

#[test]
fn python_auth_through_the_rust_trait() {
    with_implementations(|py, module| {
        let object = module.getattr("Auth").unwrap().call0().unwrap();
        let auth: Arc<dyn AuthInterface> = Arc::new(PythonAuth::new(&object).unwrap());
        let good = AuthCredentials::new("c1")
            .unwrap()
            .with_password(&b"pw"[..]);
        let bad = AuthCredentials::new("c2")
            .unwrap()
            .with_password(&b"nope"[..]);
        // The calls below may come from any thread: release the interpreter meanwhile.
        let (accepted, rejected, allowed, denied) = py.detach(|| {
            let worker = std::thread::spawn({
                let auth = Arc::clone(&auth);
                let good = good.clone();
                move || auth.authenticate(&good).unwrap()
            });
            (
                worker.join().unwrap(),
                auth.authenticate(&bad).unwrap(),
                auth.authorize(&good, "a/#", Action::Subscribe).unwrap(),
                auth.authorize(&good, "a/#", Action::Publish).unwrap(),
            )
        });
        assert!(accepted && !rejected && allowed && !denied);
        let calls = object.getattr("calls").unwrap();
        assert_eq!(calls.len().unwrap(), 4, "the Python methods ran");

        // A Python exception comes back unchanged.
        let explode = AuthCredentials::new("c3")
            .unwrap()
            .with_username("explode")
            .unwrap();
        let err = python_error(auth.authenticate(&explode).unwrap_err());
        assert!(err.is_instance_of::<PyKeyError>(py));
        assert!(err.to_string().contains("no such user"));
    });
}

#[test]
fn async_def_is_refused_and_only_true_grants() {
    with_implementations(|py, module| {
        let refusal: String = module.getattr("ASYNC_REFUSED").unwrap().extract().unwrap();
        assert!(
            refusal.contains("AsyncAuth.authenticate is an async def"),
            "{refusal}"
        );
        let object = module.getattr("LateAsyncAuth").unwrap().call0().unwrap();
        let auth = PythonAuth::new(&object).unwrap();
        let credentials = AuthCredentials::new("c1").unwrap();
        let err = python_error(auth.authenticate(&credentials).unwrap_err());
        assert!(err.is_instance_of::<PyTypeError>(py));
        let text = err.to_string();
        assert!(
            text.contains("LateAsyncAuth.authenticate") && text.contains("async def"),
            "{text}"
        );
        // A truthy answer that is not True is a refusal, never a grant.
        let granted = auth.authorize(&credentials, "t", Action::Receive).unwrap();
        assert!(!granted);
    });
}

#[test]
fn duck_types_are_refused() {
    with_implementations(|py, module| {
        let object = module.getattr("NotAnInterface").unwrap().call0().unwrap();
        let err = PythonAuth::new(&object).unwrap_err();
        assert!(err.is_instance_of::<PyTypeError>(py));
        assert!(storage_from_python(&object).is_err());
    });
}

#[test]
fn python_storage_through_the_rust_trait() {
    with_implementations(|py, module| {
        let object = module.getattr("Storage").unwrap().call0().unwrap();
        let storage = storage_from_python(&object).unwrap();
        let topic = TopicName::new("site/1/temp").unwrap();
        let message = Message::builder(topic.clone())
            .payload("21.5")
            .retain(true)
            .build()
            .unwrap();
        storage.store_retained(message.clone()).unwrap();
        let found = storage
            .get_retained(&TopicFilter::new("site/+/temp").unwrap())
            .unwrap();
        assert_eq!(found, [message]);
        assert!(storage.delete_retained(&topic).unwrap());
        let subscription = Subscription::new(TopicFilter::new("site/#").unwrap(), QoS::AtLeastOnce);
        assert!(
            !storage
                .add_subscription("c1", subscription.clone())
                .unwrap()
        );
        assert_eq!(
            storage.get_subscribers(&topic).unwrap(),
            [("c1".to_owned(), subscription)]
        );
        assert_eq!(storage.queue_length("c1").unwrap(), 0);
        // A Python exception comes back unchanged; a wrong element type is a TypeError.
        let err = python_error(
            storage
                .enqueue("c1", Message::new(topic.clone(), "x").unwrap())
                .unwrap_err(),
        );
        assert!(err.to_string().contains("queue backend down"));
        let err = python_error(storage.dequeue("c1", None).unwrap_err());
        assert!(err.is_instance_of::<PyTypeError>(py));
        assert!(
            err.to_string()
                .contains("dequeue() must return list[Message]"),
            "{err}"
        );
        storage.close().unwrap();
    });
}

#[test]
fn memory_storage_is_used_without_python() {
    with_implementations(|py, module| {
        let object = module.getattr("MemoryStorage").unwrap().call0().unwrap();
        let storage = storage_from_python(&object).unwrap();
        // Stored from Rust with the interpreter released: no Python involved.
        py.detach(|| {
            let message = Message::new(TopicName::new("a").unwrap(), "x").unwrap();
            storage.enqueue("c1", message).unwrap();
        });
        assert_eq!(
            object
                .call_method1("queue_length", ("c1",))
                .unwrap()
                .extract::<usize>()
                .unwrap(),
            1
        );
    });
}

#[test]
fn python_session_store_through_the_rust_trait() {
    with_implementations(|_py, module| {
        let object = module.getattr("Sessions").unwrap().call0().unwrap();
        let store = session_store_from_python(&object).unwrap();
        let (mut session, present) = store
            .create_session("c1", false, 60, ProtocolVersion::V5)
            .unwrap();
        assert!(!present);
        assert_eq!(session.protocol_version(), ProtocolVersion::V5);
        let message = Message::builder(TopicName::new("a").unwrap())
            .qos(QoS::AtLeastOnce)
            .build()
            .unwrap();
        session.send_publish(message).unwrap();
        store.save_session(&session).unwrap();
        let (resumed, present) = store
            .create_session("c1", false, 60, ProtocolVersion::V5)
            .unwrap();
        assert!(present);
        assert_eq!(resumed.outgoing_count(), 1);
        let will = Will::new(Message::new(TopicName::new("lwt").unwrap(), "gone").unwrap());
        store.set_will("c1", will.clone()).unwrap();
        assert_eq!(store.get_will("c1").unwrap(), Some(will.clone()));
        assert_eq!(store.clear_will("c1").unwrap(), Some(will));
        assert_eq!(store.client_ids().unwrap(), ["c1"]);
        assert!(store.delete_session("c1").unwrap());
        assert!(store.get_session("c1").unwrap().is_none());

        let memory = module.getattr("MemoryStorage").unwrap();
        assert!(
            session_store_from_python(&memory.call0().unwrap()).is_err(),
            "wrong interface"
        );
    });
}

#[test]
fn python_network_through_the_rust_trait() {
    with_implementations(|py, module| {
        let object = module.getattr("Network").unwrap().call0().unwrap();
        let network = network_from_python(&object).unwrap();
        assert!(network.is_connected("c1").unwrap());
        assert_eq!(network.connected_clients().unwrap(), ["c1"]);
        let message = Message::new(TopicName::new("a/b").unwrap(), "hi").unwrap();
        network.deliver("c1", &message).unwrap();
        network
            .disconnect("c1", Some(mqtt_common::ReasonCode::ServerShuttingDown))
            .unwrap();
        let sent = object.getattr("sent").unwrap();
        assert_eq!(sent.len().unwrap(), 2);
        let publish = sent.get_item(0).unwrap().get_item(1).unwrap();
        assert_eq!(
            publish
                .getattr("topic")
                .unwrap()
                .extract::<String>()
                .unwrap(),
            "a/b"
        );
        let reason = sent.get_item(1).unwrap().get_item(1).unwrap();
        assert_eq!(
            reason.getattr("name").unwrap().extract::<String>().unwrap(),
            "SERVER_SHUTTING_DOWN"
        );
        // A connection_state that returns something else is a TypeError naming it.
        let err = python_error(network.connection_state("c2").unwrap_err());
        assert!(err.is_instance_of::<PyTypeError>(py));
        assert!(
            err.to_string()
                .contains("connection_state() must return ConnectionState"),
            "{err}"
        );
    });
}

//! The contract of [`AsyncSessionInterface`] (and so of every
//! [`SessionInterface`](crate::session::SessionInterface) through an adapter).

use crate::constants::{ProtocolVersion, QoS};
use crate::message::{Message, Will};
use crate::packet_id::PacketId;
use crate::router::{Fact, persist_sessions_async};
use crate::session::AsyncSessionInterface;

use super::{message, topic};

/// Runs every check of the session-store contract, each on a new, empty store from
/// `make`; panics with the check's name and what went wrong at the first that fails.
///
/// # Panics
/// When the store breaks the contract (this is a test kit).
pub async fn session_contract<S, F>(make: F)
where
    S: AsyncSessionInterface,
    F: Fn() -> S,
{
    new_session_is_not_present(&make()).await;
    saved_session_is_resumed_with_its_state(&make()).await;
    clean_start_discards_the_session(&make()).await;
    get_save_delete(&make()).await;
    client_ids_lists_the_stored_sessions_sorted(&make()).await;
    wills(&make()).await;
    a_new_connection_cancels_the_pending_will(&make()).await;
    persist_stores_the_routers_facts(&make()).await;
}

fn will() -> Will {
    Will {
        message: message("status/c1", "offline"),
        delay_interval: 30,
    }
}

async fn new_session_is_not_present(store: &impl AsyncSessionInterface) {
    let name = "new_session_is_not_present";
    let (session, present) = store
        .create_session("c1", false, 60, ProtocolVersion::V5)
        .await
        .expect(name);
    assert!(!present, "{name}: a first CONNECT gets a new session");
    assert_eq!(session.client_id(), "c1", "{name}");
    assert_eq!(session.expiry_interval(), 60, "{name}");
    assert_eq!(session.protocol_version(), ProtocolVersion::V5, "{name}");
}

async fn saved_session_is_resumed_with_its_state(store: &impl AsyncSessionInterface) {
    let name = "saved_session_is_resumed_with_its_state [MQTT-3.1.2-5]";
    let (mut session, _) = store
        .create_session("c1", false, 60, ProtocolVersion::V5)
        .await
        .expect(name);
    let owed = Message::builder(topic("a"))
        .payload("x")
        .qos(QoS::AtLeastOnce)
        .build()
        .expect(name);
    let sent = session
        .send_publish(owed)
        .expect(name)
        .message_id()
        .expect("a QoS 1 message in flight has a packet identifier");
    store.save_session(&session).await.expect(name);
    let (mut resumed, present) = store
        .create_session("c1", false, 120, ProtocolVersion::V5)
        .await
        .expect(name);
    assert!(
        present,
        "{name}: without clean start the stored session is resumed"
    );
    let in_flight: Vec<PacketId> = resumed.outgoing().map(|(id, _)| id).collect();
    assert_eq!(in_flight, [sent], "{name}: with its flows");
    assert_eq!(
        resumed.expiry_interval(),
        120,
        "{name}: and the new expiry interval"
    );
    // Packet ids still in flight are not handed out again [MQTT-2.2.1-3].
    assert_ne!(resumed.next_packet_id().ok(), Some(sent), "{name}");
}

async fn clean_start_discards_the_session(store: &impl AsyncSessionInterface) {
    let name = "clean_start_discards_the_session [MQTT-3.1.2-4]";
    let (mut session, _) = store
        .create_session("c1", false, 60, ProtocolVersion::V5)
        .await
        .expect(name);
    let owed = Message::builder(topic("a"))
        .payload("x")
        .qos(QoS::AtLeastOnce)
        .build()
        .expect(name);
    session.send_publish(owed).expect(name);
    store.save_session(&session).await.expect(name);
    let (fresh, present) = store
        .create_session("c1", true, 0, ProtocolVersion::V5)
        .await
        .expect(name);
    assert!(!present, "{name}");
    assert_eq!(
        fresh.outgoing_count(),
        0,
        "{name}: nothing of the old session"
    );
}

async fn get_save_delete(store: &impl AsyncSessionInterface) {
    let name = "get_save_delete";
    assert!(
        store.get_session("nobody").await.expect(name).is_none(),
        "{name}"
    );
    let (session, _) = store
        .create_session("c1", false, 60, ProtocolVersion::V311)
        .await
        .expect(name);
    store.save_session(&session).await.expect(name);
    let stored = store.get_session("c1").await.expect(name);
    assert_eq!(
        stored.map(|s| s.client_id().to_owned()),
        Some("c1".to_owned()),
        "{name}"
    );
    assert!(
        store.delete_session("c1").await.expect(name),
        "{name}: there was one"
    );
    assert!(
        !store.delete_session("c1").await.expect(name),
        "{name}: deleted once"
    );
    assert!(
        store.get_session("c1").await.expect(name).is_none(),
        "{name}"
    );
}

async fn client_ids_lists_the_stored_sessions_sorted(store: &impl AsyncSessionInterface) {
    let name = "client_ids_lists_the_stored_sessions_sorted";
    assert!(store.client_ids().await.expect(name).is_empty(), "{name}");
    for client_id in ["c2", "c1", "c3"] {
        let (session, _) = store
            .create_session(client_id, false, 60, ProtocolVersion::V5)
            .await
            .expect(name);
        store.save_session(&session).await.expect(name);
    }
    assert_eq!(
        store.client_ids().await.expect(name),
        ["c1", "c2", "c3"],
        "{name}"
    );
    store.delete_session("c2").await.expect(name);
    assert_eq!(
        store.client_ids().await.expect(name),
        ["c1", "c3"],
        "{name}"
    );
}

async fn wills(store: &impl AsyncSessionInterface) {
    let name = "wills";
    assert!(store.get_will("c1").await.expect(name).is_none(), "{name}");
    store.set_will("c1", will()).await.expect(name);
    assert_eq!(
        store.get_will("c1").await.expect(name),
        Some(will()),
        "{name}"
    );
    assert_eq!(
        store.clear_will("c1").await.expect(name),
        Some(will()),
        "{name}"
    );
    assert!(
        store.get_will("c1").await.expect(name).is_none(),
        "{name}: cleared"
    );
    assert!(
        store.clear_will("c1").await.expect(name).is_none(),
        "{name}"
    );
}

async fn a_new_connection_cancels_the_pending_will(store: &impl AsyncSessionInterface) {
    let name = "a_new_connection_cancels_the_pending_will [MQTT-3.1.3-9]";
    store
        .create_session("c1", false, 60, ProtocolVersion::V5)
        .await
        .expect(name);
    store.set_will("c1", will()).await.expect(name);
    store
        .create_session("c1", false, 60, ProtocolVersion::V5)
        .await
        .expect(name);
    assert!(store.get_will("c1").await.expect(name).is_none(), "{name}");
}

async fn persist_stores_the_routers_facts(store: &impl AsyncSessionInterface) {
    let name = "persist_stores_the_routers_facts";
    let (session, _) = store
        .create_session("away", false, 60, ProtocolVersion::V5)
        .await
        .expect(name);
    let kept = [
        Fact::Session { session },
        Fact::Will {
            client_id: "away".to_owned(),
            will: Some(will()),
        },
    ];
    persist_sessions_async(store, &kept).await.expect(name);
    assert!(
        store.get_session("away").await.expect(name).is_some(),
        "{name}"
    );
    assert_eq!(
        store.get_will("away").await.expect(name),
        Some(will()),
        "{name}"
    );
    let published = [Fact::Will {
        client_id: "away".to_owned(),
        will: None,
    }];
    persist_sessions_async(store, &published).await.expect(name);
    assert!(
        store.get_will("away").await.expect(name).is_none(),
        "{name}: Will cleared"
    );
    let ended = [Fact::SessionEnded {
        client_id: "away".to_owned(),
    }];
    persist_sessions_async(store, &ended).await.expect(name);
    assert!(
        store.get_session("away").await.expect(name).is_none(),
        "{name}: ended"
    );
}

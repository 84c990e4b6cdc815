//! An accepted connection's events that need nothing but the router.

use std::time::SystemTime;

use crate::constants::QoS;
use crate::protocol::Event;

use super::{ConnectionId, RoutedEvents, Router};

impl Router {
    /// Handles, in order, the events of an accepted connection's read that need nothing
    /// but the router, and stops at the first that needs the broker.
    ///
    /// A [`Message`](Event::Message) at QoS 0 or 1 is published, its client the
    /// publisher; a [`Delivered`](Event::Delivered) or [`Discarded`](Event::Discarded)
    /// with a tag is settled (one without a tag changes nothing and is dropped). Every
    /// other event, and each one after it, is left in [`RoutedEvents::rest`] for the
    /// broker, in order: a CONNECT, SUBSCRIBE or UNSUBSCRIBE must be decided first (a
    /// subscription takes effect before the messages read after it), and a QoS 2 message
    /// changes the session's state, which a broker with a session store saves.
    ///
    /// For a broker that authorizes nothing: one that asks a provider whether a client
    /// may publish calls [`publish_filtered`](Self::publish_filtered) itself.
    ///
    /// The QoS 1 messages no subscription matched, or that the router refused, are in
    /// [`RoutedEvents::reasons`] with the code a 5.0 publisher's PUBACK carries (0x10
    /// No matching subscribers, 0x97 Quota exceeded); the refused ones' topics are in
    /// [`RoutedEvents::refused`], for the log.
    pub fn route_events(
        &mut self,
        connection: ConnectionId,
        events: Vec<Event>,
        now: SystemTime,
    ) -> RoutedEvents {
        let mut routed = RoutedEvents::default();
        let Some(publisher) = self.client_of(connection).map(str::to_owned) else {
            routed.rest = events;
            return routed;
        };
        let mut events = events.into_iter();
        for event in events.by_ref() {
            match event {
                Event::Message(message) if message.qos() != QoS::ExactlyOnce => {
                    let published = self.publish(&message, Some(&publisher), now);
                    if published.refused.is_some() {
                        routed.refused.push(message.topic().clone());
                    }
                    if let (Some(code), Some(id)) = (published.reason_code(), message.message_id())
                    {
                        routed.reasons.push((id, code));
                    }
                    routed.actions.extend(published.actions);
                }
                Event::Delivered(delivered) => {
                    if let Some(tag) = delivered.tag {
                        routed.actions.extend(self.settled(connection, tag));
                    }
                }
                Event::Discarded(discarded) => {
                    routed
                        .actions
                        .extend(self.settled(connection, discarded.tag));
                }
                other => {
                    routed.rest.push(other);
                    break;
                }
            }
        }
        routed.rest.extend(events);
        routed
    }
}

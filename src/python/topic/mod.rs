//! The topic engine for Python (`mqtt_common.utils.topic`): validation and matching,
//! `Subscription`, `SubscriptionIndex` and `merge_overlapping`.

mod index;
mod subscription;

use pyo3::prelude::*;

pub(crate) use index::PySubscriptionIndex;
pub(crate) use subscription::{PyDelivery, PySubscription, merge_overlapping};

use super::convert::extract_topic;
use crate::error::TopicKind;

/// Raise ValidationError unless `topic` is a valid topic name.
#[pyfunction]
pub(crate) fn validate_topic_name(topic: &Bound<'_, PyAny>) -> PyResult<()> {
    let topic = extract_topic("topic", TopicKind::Name, topic)?;
    Ok(crate::topic::validate_topic_name(topic).map_err(|e| e.in_field("topic"))?)
}

/// Raise ValidationError unless `topic_filter` is a valid topic filter.
#[pyfunction]
pub(crate) fn validate_topic_filter(topic_filter: &Bound<'_, PyAny>) -> PyResult<()> {
    let filter = extract_topic("topic_filter", TopicKind::Filter, topic_filter)?;
    Ok(crate::topic::validate_topic_filter(filter).map_err(|e| e.in_field("topic_filter"))?)
}

/// Return whether `topic_filter` matches `topic`; ValidationError if either is invalid.
#[pyfunction]
pub(crate) fn topic_matches(
    topic_filter: &Bound<'_, PyAny>,
    topic: &Bound<'_, PyAny>,
) -> PyResult<bool> {
    let filter = extract_topic("topic_filter", TopicKind::Filter, topic_filter)?;
    let topic = extract_topic("topic", TopicKind::Name, topic)?;
    Ok(crate::topic::topic_matches(filter, topic)?)
}

//! Topic validation and matching for Python.

use pyo3::prelude::*;

use super::convert::extract_topic;
use crate::error::TopicKind;

/// Raises ValidationError unless `topic` is a valid topic name.
#[pyfunction]
pub(super) fn validate_topic_name(topic: &Bound<'_, PyAny>) -> PyResult<()> {
    let topic = extract_topic("topic", TopicKind::Name, topic)?;
    Ok(crate::topic::validate_topic_name(topic).map_err(|e| e.in_field("topic"))?)
}

/// Raises ValidationError unless `topic_filter` is a valid topic filter.
#[pyfunction]
pub(super) fn validate_topic_filter(topic_filter: &Bound<'_, PyAny>) -> PyResult<()> {
    let filter = extract_topic("topic_filter", TopicKind::Filter, topic_filter)?;
    Ok(crate::topic::validate_topic_filter(filter).map_err(|e| e.in_field("topic_filter"))?)
}

/// Whether `topic_filter` matches `topic`; raises ValidationError if either is invalid.
#[pyfunction]
pub(super) fn topic_matches(
    topic_filter: &Bound<'_, PyAny>,
    topic: &Bound<'_, PyAny>,
) -> PyResult<bool> {
    let filter = extract_topic("topic_filter", TopicKind::Filter, topic_filter)?;
    let topic = extract_topic("topic", TopicKind::Name, topic)?;
    Ok(crate::topic::topic_matches(filter, topic)?)
}

"""Utilities: topic validation and matching."""

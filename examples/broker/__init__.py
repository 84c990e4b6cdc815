"""The reference broker: ``python examples/broker/`` (see ``__main__.py``)."""

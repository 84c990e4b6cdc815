"""The reference broker from a clone: ``python examples/broker/`` runs ``mqtt_broker``."""

"""Command-line tools for auth files: ``python -m mqtt_common.auth passwd ...``.

The providers themselves are in ``mqtt_common.src.auth``.
"""

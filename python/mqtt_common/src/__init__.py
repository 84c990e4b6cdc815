"""The interfaces that broker modules implement, with reference implementations.

Each interface is an ``abc.ABC`` over a Rust base class: subclass it, implement every
abstract method (instantiating an incomplete subclass raises ``TypeError``), and Rust
code can call your implementation through the matching Rust trait. Implementations are
synchronous and must not block.
"""

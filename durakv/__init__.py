"""durakv: a Redis-compatible, durable, in-memory database."""

__version__ = "0.1.0"

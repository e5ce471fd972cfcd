"""Test support: starting real servers (durakv, redis-server, nats-server) and raw clients."""

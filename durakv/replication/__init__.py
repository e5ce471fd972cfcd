"""Replication: replicas that tail the shard log, leases, election, fencing, failover.

A node joins a shard with ``durakv-server --log nats://h1:p1,h2:p2,h3:p3 --shard N
--node-id ID [--lease-ms 2000]``; ``durakv up`` (``durakv.cli``) starts a whole local
cluster.  Modules:

* ``setup`` — ``install(node)``: the JetStream log factory, start-up sync, INFO section;
* ``manager`` — roles, leases (renewal records), election (conditional ``ELECT``
  append), fencing and self-demotion, planned failover, cluster metadata in the KV bucket;
* ``follower`` — the in-order consumer of the shard stream;
* ``snapshots`` — RDB snapshots in the JetStream Object Store and purging the log.

The record format and the leader's appends are in :mod:`durakv.durability.jetstream`.
"""

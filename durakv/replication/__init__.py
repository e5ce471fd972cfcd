"""Replication: replicas that tail the shard log, leases, election, fencing, failover."""

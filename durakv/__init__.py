"""durakv: a Redis-compatible, durable, in-memory database."""

import os as _os

# numpy (vectorised HyperLogLog, bit operations, scans) loads OpenBLAS, whose worker
# threads spin for a while after any use: about 1% of the node's CPU under load, for
# matrix products durakv never computes.  One thread means no workers.
_os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.1.0"

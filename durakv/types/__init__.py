"""Pure data structures for the Redis value types (no keyspace, no session imports).

Every value class has ``type_name`` (what TYPE reports), ``encoding(config) -> str`` (what
OBJECT ENCODING reports, Redis 7.0's names and thresholds), ``copy()`` (a deep copy, for
COPY), ``__len__`` and a public, ordered way to read its content — the API the RDB codec,
DEBUG DIGEST and friends use:

* :class:`~durakv.types.hash.Hash` (``"hash"``, listpack | hashtable):
  ``items()`` -> [(field, value)] in iteration order; ``keys()``, ``values()``,
  ``get(field)``; build with ``Hash.from_pairs(pairs, max_entries, max_value)`` (pass
  ``hash-max-listpack-entries`` / ``-value``); ``set_many(flat, max_entries, max_value)``;
  ``delete_many(fields)``; ``convert()`` forces the hashtable encoding.
* :class:`~durakv.types.list.List` (``"list"``, always quicklist in 7.0): a
  ``collections.deque`` subclass — iterate it head to tail; ``List(iterable)`` builds one.
* :class:`~durakv.types.set.Set` (``"set"``, intset | hashtable): a ``set`` subclass of
  bytes members; ``members()`` gives Redis's iteration order (ascending integers while
  intset-encoded); the ``intset`` attribute is the encoding flag; build with
  ``Set.new_for(first_member, max_intset)`` then ``add_members(ms, max_intset)``.
* :class:`~durakv.types.zset.ZSet` (``"zset"``, listpack | skiplist): ``items()`` ->
  [(member, score)] ascending by (score, member); ``score(member)``; build with
  ``ZSet.from_items(items, max_entries, max_value)`` (``zset-max-listpack-*``);
  ``set(member, score, max_entries, max_value)``; ``remove_many(members)``.

Redis converts small encodings to the big ones one way only; so do these classes.
"""

from .hash import Hash
from .list import List
from .set import Set
from .zset import ZSet

__all__ = ["Hash", "List", "Set", "ZSet"]

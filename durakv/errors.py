"""Every error text durakv sends, character for character as Redis 7.0 sends it.

Handlers raise :class:`CommandError` with one of these texts (or a formatted variant);
the dispatcher turns it into a ``-...\\r\\n`` reply and counts it in INFO errorstats by
its first word.  Keeping the texts here keeps them consistent and greppable.
"""

from __future__ import annotations


class CommandError(Exception):
    """An error reply.  ``msg`` is the text without the leading '-' (e.g. 'ERR syntax error')."""

    __slots__ = ("msg",)

    def __init__(self, msg: str) -> None:
        super().__init__(msg)
        self.msg = msg


class ProtocolError(Exception):
    """Malformed request: reply ``-ERR Protocol error: <msg>`` and close the connection."""


SYNTAX = "ERR syntax error"
WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
NOT_INTEGER = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
OVERFLOW = "ERR increment or decrement would overflow"
INCR_NAN_INF = "ERR increment would produce NaN or Infinity"
NO_SUCH_KEY = "ERR no such key"
INVALID_EXPIRE = "ERR invalid expire time in '{}' command"
INVALID_DB = "ERR DB index is out of range"
SELECT_INVALID = "ERR DB index is out of range"
NOT_INT_OR_OUT = NOT_INTEGER
OFFSET_OUT_OF_RANGE = "ERR offset is out of range"
BIT_OFFSET = "ERR bit offset is not an integer or out of range"
BIT_VALUE = "ERR bit is not an integer or out of range"
STRING_TOO_LONG = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
# strings and bitmaps
DECR_OVERFLOW = "ERR decrement would overflow"
LCS_NOT_STRINGS = "ERR The specified keys must contain string values"
LCS_IDX_AND_LEN = "ERR If you want both the length and indexes, please just use IDX."
LCS_TOO_LONG = "ERR String too long for LCS"
LCS_TOO_BIG = "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"
BITPOS_BIT = "ERR The bit argument must be 1 or 0."
BITOP_NOT_ONE_KEY = "ERR BITOP NOT must be called with a single source key."
BITFIELD_TYPE = (
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."
)
BITFIELD_OVERFLOW_TYPE = "ERR Invalid OVERFLOW type specified"
BITFIELD_RO_GET_ONLY = "ERR BITFIELD_RO only supports the GET subcommand"
# streams: Redis 7.0 names XREAD and '$' in this text for XREADGROUP too (7.2 formats it)
XREAD_UNBALANCED = (
    "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified."
)
OOM = "OOM command not allowed when used memory > 'maxmemory'."
NOAUTH = "NOAUTH Authentication required."
EXECABORT = "EXECABORT Transaction discarded because of previous errors."
MULTI_NESTED = "ERR MULTI calls can not be nested"
EXEC_WITHOUT_MULTI = "ERR EXEC without MULTI"
DISCARD_WITHOUT_MULTI = "ERR DISCARD without MULTI"
WATCH_IN_MULTI = "ERR WATCH inside MULTI is not allowed"
READONLY = "READONLY You can't write against a read only replica."
NOREPLICAS = "NOREPLICAS Not enough good replicas to write."
RDB_LOAD_FAILED = "ERR Error trying to load the RDB dump"  # DEBUG RELOAD
LOADING = "LOADING Redis is loading the dataset in memory"
MISCONF = (
    "MISCONF Errors writing to the AOF file: {}"
)
MISCONF_LOG = (
    "MISCONF The durable log refused the last write ({}); the node refuses writes until it "
    "has recovered its state from disk."
)
TIMEOUT_NEGATIVE = "ERR timeout is negative"
TIMEOUT_NOT_FLOAT = "ERR timeout is not a float or out of range"
TIMEOUT_OUT_OF_RANGE = "ERR timeout is out of range"
SAME_OBJECT = "ERR source and destination objects are the same"
BUSYKEY = "BUSYKEY Target key name already exists."
NOSCRIPT = "NOSCRIPT No matching script. Please use EVAL."
UNKNOWN_COMMAND = "ERR unknown command '{}', with args beginning with: {}"
UNKNOWN_SUBCOMMAND = "ERR unknown subcommand '{}'. Try {} HELP."
WRONG_ARITY = "ERR wrong number of arguments for '{}' command"
NOT_ALLOWED_SUBSCRIBED = (
    "ERR Can't execute '{}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
    "are allowed in this context"
)
COMMAND_NOT_ALLOWED_IN_MULTI = "ERR Command not allowed inside a transaction"
INVALID_CURSOR = "ERR invalid cursor"
NEGATIVE_LENGTH = "ERR value is out of range, must be positive"
PROTO_INVALID_BULK = "invalid bulk length"
PROTO_INVALID_MBULK = "invalid multibulk length"
PROTO_UNAUTH_MBULK = "unauthenticated multibulk length"
PROTO_UNAUTH_BULK = "unauthenticated bulk length"
PROTO_UNBALANCED_QUOTES = "unbalanced quotes in request"
PROTO_BIG_INLINE = "too big inline request"
PROTO_BIG_MBULK = "too big mbulk count string"
PROTO_BIG_BULK = "too big bulk count string"


# pub/sub, client tracking, scripting (durakv.pubsub, commands/tracking.py, durakv.scripting)
UNKNOWN_SUBCOMMAND_OR_ARITY = "ERR unknown subcommand or wrong number of arguments for '{}'. Try {} HELP."
TRACKING_SINGLE_REDIRECT = "ERR A client can only redirect to a single other client"
TRACKING_REDIRECT_MISSING = "ERR The client ID you want redirect to does not exist"
TRACKING_PREFIX_NEEDS_BCAST = "ERR PREFIX option requires BCAST mode to be enabled"
TRACKING_SWITCH_BCAST = (
    "ERR You can't switch BCAST mode on/off before disabling tracking for this client, and then "
    "re-enabling it with a different mode."
)
TRACKING_OPTIN_BCAST = "ERR OPTIN and OPTOUT are not compatible with BCAST"
TRACKING_OPTIN_OPTOUT = "ERR You can't specify both OPTIN mode and OPTOUT mode"
TRACKING_SWITCH_OPT = (
    "ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this client, and then "
    "re-enabling it with a different mode."
)
TRACKING_PREFIX_EXISTING = (
    "ERR Prefix '{}' overlaps with an existing prefix '{}'. Prefixes for a single client must not overlap."
)
TRACKING_PREFIX_OTHER = (
    "ERR Prefix '{}' overlaps with another provided prefix '{}'. Prefixes for a single client must not overlap."
)
CACHING_NOT_TRACKING = (
    "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled"
)
CACHING_YES_OPTIN = "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode."
CACHING_NO_OPTOUT = "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."


def fmt_arg(value: bytes, limit: int = 128) -> str:
    """Render a client-supplied argument inside an error text (latin-1 keeps bytes 1:1)."""
    s = value[:limit].decode("latin-1")
    return s.replace("\r", " ").replace("\n", " ")


def sanitize(msg: str) -> str:
    """Error texts must be one line on the wire, as Redis's addReplyErrorFormat ensures."""
    return msg.replace("\r", " ").replace("\n", " ")

# ACL (Redis 7.0.15's acl.c / server.c texts)
WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."
NOPERM_CMD = "NOPERM this user has no permissions to run the '{}' command"
NOPERM_KEY = "NOPERM this user has no permissions to access one of the keys used as arguments"
NOPERM_CHANNEL = "NOPERM this user has no permissions to access one of the channels used as arguments"
ACL_DRYRUN_CMD = "This user has no permissions to run the '{}' command"
ACL_DRYRUN_KEY = "This user has no permissions to access the '{}' key"
ACL_DRYRUN_CHANNEL = "This user has no permissions to access the '{}' channel"
ACL_USERNAME_SPACES = "ERR Usernames can't contain spaces or null characters"
ACL_UNMATCHED_PAREN = "ERR Unmatched parenthesis in acl selector starting at '{}'."
ACL_SETUSER_MODIFIER = "ERR Error in ACL SETUSER modifier '{}': {}"
ACL_DELETE_DEFAULT = "ERR The 'default' user cannot be removed"
ACL_UNKNOWN_CATEGORY = "ERR Unknown category '{}'"
ACL_GENPASS_BITS = (
    "ERR ACL GENPASS argument must be the number of bits for the output password, a positive number up to 4096"
)
ACL_DRYRUN_NO_USER = "ERR User '{}' not found"
ACL_DRYRUN_NO_COMMAND = "ERR Command '{}' not found"
SCRIPT_DEBUG_PIPELINE = "ERR SCRIPT DEBUG must be called outside a pipeline"
SCRIPT_DEBUG_USAGE = "ERR Use SCRIPT DEBUG YES/SYNC/NO"

# cluster mode, scripting libraries, users, CONFIG SET (Redis 7.0.15's texts)
CLUSTER_DISABLED = "ERR This instance has cluster support disabled"
INVALID_LIBRARY_METADATA = "ERR Invalid library metadata"
NO_SUCH_USER = "ERR No such user '{}'"
CONFIG_SET_FAILED = "ERR CONFIG SET failed (possibly related to argument '{}') - {}"
# the apply failures of CONFIG SET port / bind (changePort / changeBindAddr)
LISTEN_PORT_FAILED = "Unable to listen on this port. Check server logs."
BIND_FAILED = "Failed to bind to specified addresses."

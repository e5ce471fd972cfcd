"""Sans-I/O RESP2/RESP3: request parsing (hiredis fast path + exact Python parser) and reply encoding."""

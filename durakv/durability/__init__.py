"""Effects → log records, the commit tracker, the Log interface and its implementations."""

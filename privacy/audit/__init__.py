"""The hash-chained, append-only access log and its verification."""

"""Storage: InfluxDB I/O (influx), the Redis registry of submissions and inline metrics,
the history cache (tails), series locks, blobs, retention, backup and restore."""

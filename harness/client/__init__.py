"""The CI client: HTTP with retries (http), `harness post` and its gates, backfill, the
report command, CI environments and the command line. Needs requests and tqdm only."""

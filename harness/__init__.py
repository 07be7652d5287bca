"""The metric harness: the core (settings, model, catalog, formats, detection, alerting,
storage, ingest), the web app (web/), the CI client (client/) and tools (tools/)."""

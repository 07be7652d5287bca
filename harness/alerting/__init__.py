"""Alerting: alert identity and triage states (alerts, log), Slack messages (slack) and
their once-only delivery and grouping (delivery)."""

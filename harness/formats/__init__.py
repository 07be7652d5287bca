"""Input formats → the harness model."""

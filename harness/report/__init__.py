"""Verification reports: requirements traced to metric cells, statuses, fractions, changes;
as JSON (schema harness.report/1), Markdown and the dashboard's HTML.

Modules: `model` (the pure report), `collect` (reading the store), `selection` (which
builds), `markdown` (rendering), `command` (`harness report`, which only needs requests:
this package imports none of them by itself)."""

"""Tests that run against real Redis, InfluxDB, Celery workers and the Flask app."""

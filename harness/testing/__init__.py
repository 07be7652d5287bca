"""Real throwaway servers and loopback receivers shared by the tests and the benchmarks:
Redis, InfluxDB, Celery, gunicorn and Procfile lines (servers), a Slack receiver, a
faulty InfluxDB proxy. Never imported by the service itself."""

# Benchmarks (not tests): each starts the servers it needs and rewrites its section of
# docs/performance.md.
PYTHON := .venv/bin/python

.PHONY: bench bench-pipeline bench-detection bench-dashboard profile lint test unit demo

bench: bench-pipeline bench-detection bench-dashboard

bench-pipeline:
	bash bin/setup
	$(PYTHON) -m bench.pipeline

bench-detection:
	bash bin/setup
	$(PYTHON) -m bench.detection

bench-dashboard:
	bash bin/setup
	$(PYTHON) -m bench.dashboard

# Not part of `bench`: the worker's call tree (pyinstrument), for docs/performance.md.
profile:
	bash bin/setup
	$(PYTHON) -m bench.profile

# What bin/test checks before it runs the suite: everything shipped, bench/ and tests/ included.
lint:
	.venv/bin/ruff check harness workers dashboards tests bench
	.venv/bin/mypy harness workers dashboards tests bench

test:
	bash bin/test

# The fast tests of the core on literal data: no server, well under a minute.
unit:
	$(PYTHON) -m pytest -q tests/unit

demo:
	bash bin/demo

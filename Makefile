# Benchmarks (not tests): each starts the servers it needs and rewrites its section of
# docs/performance.md.
PYTHON := .venv/bin/python

.PHONY: bench bench-summary bench-pipeline bench-detection bench-dashboard bench-scale profile lint test unit demo

bench: bench-pipeline bench-detection bench-dashboard bench-scale
	$(PYTHON) -m bench.summary

bench-pipeline:
	bash bin/setup
	$(PYTHON) -m bench.pipeline

bench-detection:
	bash bin/setup
	$(PYTHON) -m bench.detection

bench-dashboard:
	bash bin/setup
	$(PYTHON) -m bench.dashboard

# 1,000 series × 1,000 builds; SCALE_SERIES=10000 loads the 10 M points of issue 20 (~45 min).
bench-scale:
	bash bin/setup
	$(PYTHON) -m bench.scale $(if $(SCALE_SIZE),--size $(SCALE_SIZE)) $(if $(SCALE_SERIES),--series $(SCALE_SERIES))

# The Summary table of docs/performance.md from the last runs' figures.
bench-summary:
	$(PYTHON) -m bench.summary

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

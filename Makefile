# Benchmarks (not tests): each starts the servers it needs and rewrites its section of
# docs/performance.md.
PYTHON := .venv/bin/python

.PHONY: bench bench-pipeline bench-detection bench-dashboard profile test demo

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

test:
	bash bin/test

demo:
	bash bin/demo

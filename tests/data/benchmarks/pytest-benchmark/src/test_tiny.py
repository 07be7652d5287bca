"""Tiny benchmarks for pytest-benchmark's JSON (tests/data/benchmarks/pytest-benchmark)."""

import pytest


@pytest.mark.parametrize("size", [10, 1000])
def test_sort(benchmark, size):
    """Sort `size` integers in descending order."""
    data = list(range(size, 0, -1))
    assert benchmark(sorted, data)[0] == 1


def test_join(benchmark):
    """Join 100 short strings."""
    words = ["word"] * 100
    assert len(benchmark(" ".join, words)) == 499

"""Per-star arrays of the demo's hsc_rc2 AM1 and PA1: present, consistent, reproducible."""

from __future__ import annotations

import copy
import hashlib
import json
import math
import statistics
from datetime import UTC, datetime

import numpy as np
import pytest

from harness.tools.demo import DATASETS, FILTERS, generate_history
from harness.tools.demo_blobs import BRIGHT_SNR, STARS, astrometry_extras, star_rng

END = datetime(2026, 7, 26, 12, 0, tzinfo=UTC)
STAR_KEYS = {"validate_drp.AM1": {"snr", "mag", "residual"}, "validate_drp.PA1": {"rms", "mag"}}
# sha256 of generate_history(nights=30, end=END) without the per-star arrays,
# json.dumps(..., sort_keys=True): the arrays draw from streams of their own, so the main
# random stream must not drift. (Changed on purpose with the demo's events: issue 19.)
HISTORY_30_SHA256 = "72514bd2fcea07d9e03871307126207e32e1512ea755e25e2a1da6e203e907d6"


@pytest.fixture(scope="module")
def history() -> list[dict]:
    return generate_history(nights=30, end=END)


def starred(history: list[dict], metric: str) -> list[dict]:
    return [
        m
        for s in history
        if s["dimensions"]["dataset"] == "hsc_rc2"
        for m in s["measurements"]
        if m["metric"] == metric
    ]


def column(measurement: dict, key: str) -> list[float]:
    return measurement["extras"][key]["value"]


def test_only_hsc_rc2_am1_and_pa1_carry_star_arrays_and_in_every_filter(history):
    for submission in history:
        dataset = submission["dimensions"]["dataset"]
        bands = set()
        for m in submission["measurements"]:
            keys = set(m.get("extras", {}))
            if dataset == "hsc_rc2" and m["metric"] in STAR_KEYS:
                assert keys == STAR_KEYS[m["metric"]]
                bands.add((m["metric"], m["dimensions"]["filter"]))
            elif m["metric"] == "pipe_tasks.runtime":
                assert keys == {"per_ccd_s"}
            else:
                assert keys == set()
        expected = {(metric, band) for metric in STAR_KEYS for band in FILTERS}
        assert bands == (expected if dataset == "hsc_rc2" else set())
    assert set(DATASETS) == {s["dimensions"]["dataset"] for s in history}


def test_every_star_array_has_200_finite_numbers_a_unit_label_and_description(history):
    for metric, keys in STAR_KEYS.items():
        for m in starred(history, metric):
            for key in keys:
                extra = m["extras"][key]
                assert len(extra["value"]) == STARS
                assert all(isinstance(v, float) and math.isfinite(v) for v in extra["value"])
                assert all(float(f"{v:.4g}") == v for v in extra["value"])
                assert extra["label"] and extra["description"]
                assert isinstance(extra["unit"], str)


def test_am1_is_the_median_residual_of_the_stars_with_snr_at_least_50(history):
    for m in starred(history, "validate_drp.AM1"):
        assert m["extras"]["residual"]["unit"] == "marcsec" == m["unit"]
        bright = [r for r, snr in zip(column(m, "residual"), column(m, "snr"), strict=True)
                  if snr >= BRIGHT_SNR]
        assert len(bright) >= 50
        assert statistics.median(bright) == pytest.approx(m["value"], rel=0.01)


def test_faint_stars_have_larger_residuals_than_bright_ones(history):
    for m in starred(history, "validate_drp.AM1"):
        residual, snr = np.array(column(m, "residual")), np.array(column(m, "snr"))
        assert np.median(residual[snr < 20]) > 2 * np.median(residual[snr >= BRIGHT_SNR])
        assert np.all(residual > 0)


def test_snr_spans_5_to_2000_and_falls_with_magnitude(history):
    for m in starred(history, "validate_drp.AM1"):
        snr, mag = np.array(column(m, "snr")), np.array(column(m, "mag"))
        assert 2 < snr.min() < 10 and 1000 < snr.max() < 3000
        assert mag.min() >= 17 and mag.max() <= 24.5
        assert np.corrcoef(np.log10(snr), mag)[0, 1] < -0.95


def test_pa1_is_the_median_rms_of_right_skewed_bright_stars(history):
    for m in starred(history, "validate_drp.PA1"):
        rms, mag = np.array(column(m, "rms")), np.array(column(m, "mag"))
        assert m["extras"]["rms"]["unit"] == "mmag" == m["unit"]
        assert m["extras"]["mag"]["unit"] == "mag"
        assert np.median(rms) == pytest.approx(m["value"], rel=0.01)
        assert np.all(rms > 0) and rms.mean() > np.median(rms)
        assert mag.min() >= 17 and mag.max() <= 21.5


def test_the_same_seed_gives_the_same_star_arrays(history):
    assert generate_history(nights=30, end=END) == history
    assert starred(generate_history(nights=30, seed=8, end=END), "validate_drp.AM1") != starred(
        history, "validate_drp.AM1"
    )


def test_each_measurement_draws_its_own_stars():
    def stars(band: str) -> dict:
        rng = star_rng(7, "nightly-2026-07-01", "hsc_rc2", "validate_drp.AM1", band)
        return astrometry_extras(rng, 7.0)

    first, again, other = stars("r"), stars("r"), stars("i")
    assert first == again
    assert first["snr"]["value"] != other["snr"]["value"]


def test_the_star_arrays_leave_every_other_number_of_the_history_unchanged(history):
    stripped = copy.deepcopy(history)
    for submission in stripped:
        for m in submission["measurements"]:
            if m["metric"] in STAR_KEYS:
                m.pop("extras", None)
    digest = hashlib.sha256(json.dumps(stripped, sort_keys=True).encode()).hexdigest()
    assert digest == HISTORY_30_SHA256

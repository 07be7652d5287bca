"""Per-star detail arrays ("extras") behind the demo's AM1 and PA1, for dashboard drill-downs."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

STARS = 200
DIGITS = 4  # significant digits posted, to keep POST bodies small
BRIGHT_SNR = 50.0  # AM1 is the median residual of the stars at least this bright

# Signal-to-noise of a star of magnitude m: f / sqrt(1 + f / SOURCE_LIMIT), f = 10**(0.4 (ZP - m)).
# Faint stars are background-limited (snr ∝ flux), bright ones photon-limited (snr ∝ √flux),
# so magnitudes 17–24.5 give signal-to-noise ~2000 down to ~5.
ZERO_POINT = 26.25
SOURCE_LIMIT = 950.0
ASTROMETRIC_FLOOR = 1.0  # residual of a star with infinite snr, before scaling to AM1
CENTROID_NOISE = 40.0  # residual ∝ CENTROID_NOISE / snr for faint stars, same units


def star_rng(
    seed: int, build_id: str, dataset: str, metric: str, band: str | None
) -> np.random.Generator:
    """A generator of its own for one measurement's stars, so the main stream is untouched."""
    key = "\x1f".join((str(seed), build_id, dataset, metric, band or ""))
    return np.random.default_rng(int.from_bytes(hashlib.sha256(key.encode()).digest(), "big"))


def astrometry_extras(rng: np.random.Generator, am1: float) -> dict[str, Any]:
    """200 stars' snr, magnitude and astrometric residual; AM1 is the median at snr ≥ 50."""
    mag = _rounded(rng.uniform(17.0, 24.5, STARS))
    flux = 10 ** (0.4 * (ZERO_POINT - mag))
    snr = _rounded(flux / np.sqrt(1.0 + flux / SOURCE_LIMIT) * rng.lognormal(0.0, 0.1, STARS))
    shape = np.hypot(ASTROMETRIC_FLOOR, CENTROID_NOISE / snr) * rng.lognormal(0.0, 0.2, STARS)
    residual = _rounded(shape * am1 / np.median(shape[snr >= BRIGHT_SNR]))
    return {
        "snr": _extra(snr, "", "signal-to-noise",
                      "Signal-to-noise ratio of each star matched across visits"),
        "mag": _extra(mag, "mag", "magnitude", "Mean PSF magnitude of each star"),
        "residual": _extra(residual, "marcsec", "astrometric residual",
                           f"RMS of each star's relative positions over visits; AM1 is the "
                           f"median over stars with signal-to-noise ≥ {BRIGHT_SNR:g}"),
    }


def photometry_extras(rng: np.random.Generator, pa1: float) -> dict[str, Any]:
    """200 bright stars' magnitude and magnitude RMS over visits; the median RMS is PA1."""
    mag = _rounded(rng.uniform(17.0, 21.5, STARS))
    # Photon noise adds to the systematic floor towards the faint end; the rest is lognormal.
    shape = np.hypot(1.0, 10 ** (0.4 * (mag - 21.5))) * rng.lognormal(0.0, 0.3, STARS)
    rms = _rounded(shape * pa1 / np.median(shape))
    return {
        "rms": _extra(rms, "mmag", "magnitude RMS",
                      "RMS of each bright star's magnitude over visits; PA1 is their median"),
        "mag": _extra(mag, "mag", "magnitude", "Mean PSF magnitude of each star"),
    }


# The metrics whose measurements carry per-star arrays, and how to draw them from the value.
STAR_EXTRAS: Mapping[str, Callable[[np.random.Generator, float], dict[str, Any]]] = {
    "validate_drp.AM1": astrometry_extras,
    "validate_drp.PA1": photometry_extras,
}


def _rounded(values: np.ndarray) -> np.ndarray:
    return np.array([float(f"{value:.{DIGITS}g}") for value in values])


def _extra(values: np.ndarray, unit: str, label: str, description: str) -> dict[str, Any]:
    return {"value": values.tolist(), "unit": unit, "label": label, "description": description}

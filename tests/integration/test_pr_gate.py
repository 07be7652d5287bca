"""A pull request's build is judged against its base branch and can fail the regression gate
with one value, or with samples; gates combine (real web process, worker, Redis, InfluxDB)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from harness.storage.influx import InfluxStore
from tests.conftest import post_all
from tests.integration.test_post import PA1_R, clean_env, post, write

__all__ = ["clean_env"]  # its autouse fixture: no CI of this machine leaks in, a token is set

START = datetime(2026, 10, 1, 3, tzinfo=UTC)
DIMENSIONS = {"dataset": "hsc_rc2", "filter": "r"}


def base_history(client: Any, count: int = 30, level: float = 4.93, sigma: float = 0.05,
                 samples: int = 0) -> None:
    """Nightly main builds of PA1 (with `samples` repeated runs each, if any)."""
    rng = np.random.default_rng(17)
    bodies = []
    for night in range(count):
        mean = level + sigma * rng.standard_normal()
        measurement: dict[str, Any] = {"metric": "validate_drp.PA1", "unit": "mmag"}
        if samples:
            runs = mean + 0.014 * level * rng.standard_normal(samples)
            measurement["samples"] = [round(float(v), 5) for v in runs]
        else:
            measurement["value"] = round(mean, 4)
        bodies.append({"build": {"ci": "jenkins", "id": f"n{night}", "branch": "main",
                                 "time": (START + timedelta(days=night)).isoformat()},
                       "dimensions": DIMENSIONS, "measurements": [measurement]})
    post_all(client, bodies)


def pr_build(monkeypatch: pytest.MonkeyPatch, build_id: str) -> None:
    """The environment of a PR build against main, a day after the base history."""
    for name, value in {"CI": "github-actions", "ID": build_id, "BRANCH": "tickets/DM-7",
                        "PR_NUMBER": "77", "PR_BASE": "main",
                        "TIME": (START + timedelta(days=40)).isoformat()}.items():
        monkeypatch.setenv(f"HARNESS_BUILD_{name}", value)


def test_one_pr_value_far_beyond_its_base_fails_the_regression_gate(
        web: str, client: Any, system: InfluxStore, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    base_history(client)
    pr_build(monkeypatch, "pr-far")
    code, out, err = post(capsys, "--metric", "validate_drp.PA1=9.2mmag", "--dimension",
                          "dataset=hsc_rc2", "--dimension", "filter=r",
                          "--fail-on", "regression", "--url", web)
    assert code == 1, err
    assert "--fail-on regression: validate_drp.PA1 dataset=hsc_rc2, filter=r: regression (+4.2" \
        in err
    assert "(+87." in out and "vs base 4.9" in out and "z = +" in out and "**regression**" in out
    assert out.rstrip().splitlines()[-1].startswith("**Gate failed** (`--fail-on regression`)")
    assert f"{web}/dash/builds/github-actions/pr-far" in out
    assert f"{web}/dash/metrics/validate_drp.PA1?dataset=hsc_rc2&filter=r&branch=main" in out
    alerts = client.get("/api/v1/alerts").json["alerts"]
    assert [a for a in alerts if a["build_ci"] == "github-actions"] == []  # PRs never alert

    pr_build(monkeypatch, "pr-near")
    code, out, err = post(capsys, "--metric", "validate_drp.PA1=4.95mmag", "--dimension",
                          "dataset=hsc_rc2", "--dimension", "filter=r",
                          "--fail-on", "regression", "--url", web)
    assert code == 0, err
    assert out.rstrip().splitlines()[-1].startswith("**Gate passed**")


def test_gates_combine(web: str, client: Any, system: InfluxStore,
                       capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
                       tmp_path: Any) -> None:
    base_history(client, level=6.0, sigma=0.05)  # PA1 = 6 mmag meets only the minimum spec
    pr_build(monkeypatch, "pr-minimum")
    document = write(tmp_path, PA1_R)  # 6.0 mmag: no regression against a base at 6.0
    for gates in (["--fail-on", "design", "--fail-on", "regression"],
                  ["--fail-on", "design,regression"], ["--fail-on", "regression,design"]):
        code, out, err = post(capsys, document, *gates, "--url", web)
        assert code == 1, (gates, err)
        assert "--fail-on design: validate_drp.PA1 dataset=hsc_rc2, filter=r: verdict minimum" \
            in err
        assert "**Gate failed** (`--fail-on design,regression`): 1 below design" in out
    code, out, err = post(capsys, document, "--fail-on", "regression", "--url", web)
    assert code == 0, err
    code, _, err = post(capsys, document, "--fail-on", "design,speed", "--url", web)
    assert code == 2 and "a gate is one of design, minimum, regression" in err


@pytest.mark.parametrize(("shift", "gate"), [(0.02, 1), (0.0, 0)])
def test_pr_samples_shifted_2_percent_are_a_regression(
        shift: float, gate: int, web: str, client: Any, system: InfluxStore,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    base_history(client, sigma=0.003 * 4.93, samples=10)  # means vary 0.3 %, runs 1.4 %
    runs = 4.93 * (1 + shift) * (1 + 0.014 * np.random.default_rng(5).standard_normal(10))
    pr_build(monkeypatch, f"pr-samples-{shift}")
    code, out, err = post(capsys, "--metric", "validate_drp.PA1="
                          + ",".join(f"{v:.5f}" for v in runs) + "mmag",
                          "--dimension", "dataset=hsc_rc2", "--dimension", "filter=r",
                          "--fail-on", "regression", "--url", web)
    assert code == gate, err
    assert "(n = 10, sd 0.0" in out
    if gate:
        assert "**regression**" in out
    single = 4.93 * (1 + shift)  # one value moved as far is not conclusive against 1.4 %
    pr_build(monkeypatch, f"pr-single-{shift}")
    code, out, err = post(capsys, "--metric", f"validate_drp.PA1={single:.5f}mmag",
                          "--dimension", "dataset=hsc_rc2", "--dimension", "filter=r",
                          "--fail-on", "regression", "--url", web)
    assert code == 0, err

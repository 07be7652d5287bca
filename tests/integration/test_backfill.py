"""`harness backfill` against the real system: build-time order, resumption, rejections."""

from __future__ import annotations

import copy
import json
import random
import socket
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest
import redis
import requests

from harness.client.cli import main
from harness.model import document_digest
from harness.storage.influx import InfluxStore
from harness.tools.demo import generate_history
from tests.conftest import INGEST_SECRET, harness_keys, post_all

END = datetime(2026, 11, 20, 12, tzinfo=UTC)  # a fixed end: the same builds on every run


@pytest.fixture(scope="module")
def history() -> list[dict[str, Any]]:
    """About 80 native submissions (two datasets per build), in build-time order."""
    return generate_history(nights=40, end=END)


def write_shuffled(folder: Path, documents: list[dict[str, Any]], seed: int = 1) -> list[Path]:
    """The documents shuffled across a JSON-array file and a JSON-lines file."""
    shuffled = random.Random(seed).sample(documents, len(documents))
    half = len(shuffled) // 2
    folder.mkdir(parents=True, exist_ok=True)
    array, lines = folder / "history.json", folder / "history.jsonl"
    array.write_text(json.dumps(shuffled[:half], indent=1))
    lines.write_text("".join(json.dumps(document) + "\n" for document in shuffled[half:]))
    return [array, lines]


def backfill(web: str, *files: Path | str, options: tuple[str, ...] = ()) -> int:
    """Run `harness backfill` on files against the test harness; its exit code."""
    return main(["backfill", *map(str, files), "--url", web, "--token", INGEST_SECRET,
                 *options])


def measurement_count(documents: list[dict[str, Any]]) -> int:
    """How many points the documents store."""
    return sum(len(document["measurements"]) for document in documents)


def build_keys(documents: list[dict[str, Any]]) -> list[str]:
    """Each build (ci/id) once, in the order of the documents."""
    return list(dict.fromkeys(f"{d['build']['ci']}/{d['build']['id']}" for d in documents))


def arrival_order(redis_client: redis.Redis) -> list[str]:
    """Build keys in the order the harness first saw them (its record of each build's arrival)."""
    seen = {key.removeprefix("harness:build:"):
            datetime.fromisoformat(cast(str, redis_client.get(key)))
            for key in redis_client.scan_iter("harness:build:*")}
    return sorted(seen, key=seen.__getitem__)


def submissions_of(web: str, document: dict[str, Any]) -> list[dict[str, Any]]:
    """The harness's submissions of a document, asked by its digest."""
    response = requests.get(f"{web}/api/v1/submissions",
                            params={"digest": document_digest(document)}, timeout=10)
    response.raise_for_status()
    return response.json()["submissions"]


def closed_port_url() -> str:
    """A loopback URL nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_backfill_stores_everything_in_build_time_order(
    web: str, system: InfluxStore, redis_client: redis.Redis, history: list[dict[str, Any]],
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HARNESS_URL", web)
    monkeypatch.setenv("HARNESS_PUBLIC_URL", closed_port_url())  # HARNESS_URL comes first
    monkeypatch.setenv("HARNESS_TOKEN", INGEST_SECRET)
    files = write_shuffled(tmp_path, history)

    code = main(["backfill", *map(str, files)])

    err = capsys.readouterr().err
    assert code == 0, err
    assert f"posted {len(history)}, skipped 0 (already stored), rejected 0" in err
    assert f"judged: {len(history)} done, 0 failed" in err
    assert system.count() == measurement_count(history)
    assert arrival_order(redis_client) == build_keys(history)  # history is in build-time order


def test_rerun_skips_everything_already_stored(
    web: str, system: InfluxStore, history: list[dict[str, Any]], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    files = write_shuffled(tmp_path, history)
    assert backfill(web, *files) == 0
    points = system.count()
    capsys.readouterr()

    code = backfill(web, *write_shuffled(tmp_path / "again", history, seed=2))

    err = capsys.readouterr().err
    assert code == 0, err
    assert f"posted 0, skipped {len(history)} (already stored), rejected 0" in err
    assert system.count() == points == measurement_count(history)
    assert all(len(submissions_of(web, document)) == 1 for document in history)


def test_resumed_backfill_posts_only_the_rest(
    web: str, system: InfluxStore, redis_client: redis.Redis, history: list[dict[str, Any]],
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    half = len(history) // 2
    done, rest = history[:half], history[half:]  # an import interrupted half-way
    first = tmp_path / "first.jsonl"
    first.write_text("".join(json.dumps(document) + "\n" for document in done))
    assert backfill(web, first) == 0
    capsys.readouterr()

    code = backfill(web, *write_shuffled(tmp_path / "all", history))

    err = capsys.readouterr().err
    assert code == 0, err
    assert f"posted {len(rest)}, skipped {len(done)} (already stored), rejected 0" in err
    assert [len(submissions_of(web, document)) for document in history] == [1] * len(history)
    assert system.count() == measurement_count(history)
    assert arrival_order(redis_client) == build_keys(history)


def test_failed_submission_is_posted_again(
    web: str, system: InfluxStore, redis_client: redis.Redis, history: list[dict[str, Any]],
    tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    document = history[0]
    path = tmp_path / "one.json"
    path.write_text(json.dumps(document))
    assert backfill(web, path) == 0
    [stored] = submissions_of(web, document)
    key = f"harness:submission:{stored['submission']}"
    status = json.loads(cast(str, redis_client.get(key)))
    redis_client.set(key, json.dumps({**status, "state": "failed", "error": "test"}))
    capsys.readouterr()

    code = backfill(web, path)

    assert code == 0
    assert "posted 1, skipped 0" in capsys.readouterr().err
    assert sorted(item["state"] for item in submissions_of(web, document)) == ["done", "failed"]


def test_rejected_document_is_named_by_file_and_index_and_the_others_stored(
    web: str, system: InfluxStore, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    documents = generate_history(nights=14, end=END)
    bad = copy.deepcopy(documents[5])
    bad["measurements"][2]["metric"] = "validate_drp.NoSuchMetric"
    documents[5] = bad
    path = tmp_path / "with-bad.json"
    path.write_text(json.dumps(documents))

    code = backfill(web, path)

    err = capsys.readouterr().err
    assert code == 1, err
    assert f"rejected {path}[5], build {bad['build']['ci']}/{bad['build']['id']}: HTTP 422" in err
    assert "measurements[2].metric: unknown metric 'validate_drp.NoSuchMetric'" in err
    assert f"posted {len(documents) - 1}, skipped 0 (already stored), rejected 1" in err
    assert system.count() == measurement_count(documents) - len(bad["measurements"])


def test_jobs_and_submissions_are_interleaved_by_build_time(
    web: str, system: InfluxStore, redis_client: redis.Redis, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    submissions = generate_history(nights=14, end=END)
    job_time = datetime.fromisoformat(submissions[9]["build"]["time"]) + timedelta(minutes=1)
    job = {
        "measurements": [
            {"metric": "validate_drp.PA1", "identifier": "m-pa1", "value": 4.2, "unit": "mmag",
             "blob_refs": []},
            {"metric": "validate_drp.AM1", "identifier": "m-am1", "value": 7.1,
             "unit": "marcsec", "blob_refs": []},
        ],
        "blobs": [], "metrics": [], "specs": [],
        "meta": {"env": {"ci_name": "validate_drp", "ci_id": "4512", "ci_dataset": "hsc_rc2",
                         "ci_url": "https://ci.example.org/job/validate_drp/4512/",
                         "ci_refs": ["main"], "date": job_time.isoformat()},
                 "packages": {}, "filter_name": "r"},
    }
    (tmp_path / "job.json").write_text(json.dumps(job))
    (tmp_path / "native.json").write_text(json.dumps(submissions[::-1]))

    code = backfill(web, tmp_path / "job.json", tmp_path / "native.json")

    assert code == 0, capsys.readouterr().err
    assert system.count() == measurement_count(submissions) + 2
    order = arrival_order(redis_client)
    builds = build_keys(submissions)
    job_after = builds.index(build_keys(submissions[9:10])[0])
    assert order == [*builds[:job_after + 1], "validate_drp/4512", *builds[job_after + 1:]]


@pytest.mark.parametrize(("content", "message"), [
    (None, "cannot read"),
    ('{"build": {"id": "1"', "not JSON"),
    ('{"build": {}}\n{"build": \n', ":2: not JSON"),
    ('[{"build": {}}, 3]', "[1]: a document must be a JSON object"),
    ('{"build": {"id": "1", "id": "2"}}', "duplicate key 'id'"),
    ('{"measurements": [{"value": NaN}]}', "NaN is not a JSON number"),
    ("", "no JSON documents"),
])
def test_unreadable_input_exits_2_naming_the_file(
    content: str | None, message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "input.json"
    if content is not None:
        path.write_text(content)

    code = backfill(closed_port_url(), path)

    err = capsys.readouterr().err
    assert code == 2
    assert str(path) in err and message in err


def test_unreachable_harness_exits_4(
    history: list[dict[str, Any]], tmp_path: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "one.json"
    path.write_text(json.dumps(history[0]))

    code = backfill(closed_port_url(), path, options=("--retries", "1"))

    assert code == 4
    assert "harness unreachable" in capsys.readouterr().err


def test_live_posting_backfill_and_replay_give_the_same_alert(
        web: str, client: Any, system: InfluxStore, tmp_path: Path, redis_client: redis.Redis,
        capsys: pytest.CaptureFixture[str]) -> None:
    values = list(45.0 + 0.4 * np.random.default_rng(4).standard_normal(30))
    values[22:] = [value + 3.0 for value in values[22:]]  # +3 s from b022 on
    start = datetime(2026, 6, 1, 3, tzinfo=UTC)
    documents: list[dict[str, Any]] = [
        {"build": {"ci": "jenkins", "id": f"b{index:03d}", "branch": "main",
                   "time": (start + timedelta(days=index)).isoformat()},
         "dimensions": {"dataset": "hsc_rc2"},
         "measurements": [{"metric": "dm_latency.OTT1", "value": value, "unit": "s"}]}
        for index, value in enumerate(values)]

    def regressions() -> list[tuple[str, str, str]]:
        found = client.get("/api/v1/alerts?kind=regression").json["alerts"]
        return [(a["build_id"], a["started_build"], a["state"]) for a in found]

    post_all(client, documents)
    live = regressions()
    system.query("DROP SERIES FROM /.*/", method="POST")  # a fresh harness, the same data
    redis_client.delete(*harness_keys(redis_client))
    assert backfill(web, *write_shuffled(tmp_path / "in", documents)) == 0
    capsys.readouterr()
    path = tmp_path / "ott1.csv"
    path.write_text("build_id,time,value\n" + "".join(
        f"{d['build']['id']},{d['build']['time']},{d['measurements'][0]['value']}\n"
        for d in documents))
    assert main(["replay", str(path), "--metric", "dm_latency.OTT1"]) == 0
    replayed = [json.loads(line) for line in capsys.readouterr().out.splitlines()][:-1]

    assert len(live) == 1 and live[0][1] == "b022" and live[0][2] == "open"
    assert regressions() == live
    assert [(line["build_id"], line["started_build"]) for line in replayed
            if line["kind"] == "regression"] == [live[0][:2]]

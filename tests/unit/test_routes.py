"""Routing alerts to destinations (harness.alerting.routes): matching, the default for what
no route matches, and validation that names file and key; and the messages a summary gets
(Slack, JSON webhook), built from literal alerts."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from harness.alerting.routes import (
    DEFAULT,
    ROUTES_FILE,
    Destination,
    Routes,
    anyone_listens,
    load_routes,
    parse_routes,
)
from harness.alerting.summaries import cause_of
from harness.alerting.summary_messages import joined_message, summary_message
from harness.alerting.webhook import FORMAT, notification
from harness.client.cli import main
from harness.errors import CatalogError, SettingsError
from harness.links import summary_url
from harness.settings import Settings

from .examples import alert

PUBLIC = "https://harness.example.org"
CHECKOUT = Path(__file__).resolve().parents[2]
TAGS = {"validate_drp.PA1": ("photometry", "kpm"), "validate_drp.AM1": ("astrometry", "kpm"),
        "pipe_tasks.runtime": ("developer",)}
ROUTES: dict[str, Any] = {
    "destinations": {
        "astrometry": {"slack": {"channel": "#astrometry", "url_env": "HARNESS_WEBHOOK_ASTRO"}},
        "pipelines": {"slack": {"channel": "#pipelines",
                                "url": "https://hooks.slack.com/services/T/B/X"}},
        "tracker": {"webhook": {"url": "https://tracker.example.org/hooks/harness"}},
    },
    "routes": [
        {"match": {"metric": "validate_drp.AM*"}, "to": ["astrometry", "tracker"]},
        {"match": {"tag": "developer", "kind": ["regression", "improvement"]},
         "to": "pipelines"},
        {"match": {"tag": ["kpm"], "severity": "critical"}, "to": ["tracker", "default"]},
    ],
}


def problems(body: Any) -> dict[str, str]:
    """Path → message of each problem the routes have."""
    with pytest.raises(CatalogError) as caught:
        parse_routes(body)
    return {problem.path: problem.message for problem in caught.value.problems}


def with_route(**route: Any) -> dict[str, Any]:
    """ROUTES with a second route replaced."""
    routes = list(ROUTES["routes"])
    routes[1] = route
    return {**ROUTES, "routes": routes}


def destinations(routes: Routes, made: Any) -> tuple[str, ...]:
    return routes.destinations_of(made, TAGS.get(made.metric, ()))


# --- matching ----------------------------------------------------------------------------

def test_an_alert_goes_to_every_destination_of_every_route_it_matches_once() -> None:
    routes = parse_routes(ROUTES)
    am1 = alert(metric="validate_drp.AM1", severity="critical")
    assert destinations(routes, am1) == ("astrometry", "tracker", "default")


def test_each_key_of_a_match_must_hold_and_any_of_its_values_will_do() -> None:
    routes = parse_routes(ROUTES)
    runtime = alert(metric="pipe_tasks.runtime")
    assert destinations(routes, runtime) == ("pipelines",)
    assert destinations(routes, alert("spec", metric="pipe_tasks.runtime")) == (DEFAULT,)
    assert destinations(routes, alert("improvement", metric="pipe_tasks.runtime",
                                      severity="info")) == ("pipelines",)


def test_what_no_route_matches_goes_to_the_default_webhook() -> None:
    routes = parse_routes(ROUTES)
    assert destinations(routes, alert(severity="warning")) == (DEFAULT,)  # PA1, a warning
    assert destinations(Routes(), alert()) == (DEFAULT,)  # no routes file


def test_split_gives_each_destination_its_alerts_in_order() -> None:
    routes = parse_routes(ROUTES)
    am1 = alert(metric="validate_drp.AM1")
    runtime = alert(metric="pipe_tasks.runtime")
    pa1 = alert(severity="critical")
    plan = routes.split([am1, runtime, pa1], lambda metric: TAGS.get(metric, ()))
    assert plan == {"astrometry": [am1], "tracker": [am1, pa1], "pipelines": [runtime],
                    DEFAULT: [pa1]}


def test_an_empty_match_matches_every_alert() -> None:
    routes = parse_routes({"destinations": ROUTES["destinations"],
                           "routes": [{"to": ["tracker"]}]})
    assert destinations(routes, alert("missing")) == ("tracker",)


def test_urls_come_from_the_file_or_from_a_harness_webhook_variable() -> None:
    routes = parse_routes(ROUTES)
    settings = Settings.from_env({"HARNESS_WEBHOOK_ASTRO": "https://hooks.slack.com/A",
                                  "HARNESS_SLACK_WEBHOOK_URL": "https://hooks.slack.com/D"})
    assert routes.destination("astrometry").url_in(settings) == "https://hooks.slack.com/A"
    assert routes.destination("astrometry").url_in(Settings.from_env({})) is None
    assert routes.destination("tracker") == Destination(
        "tracker", "webhook", url="https://tracker.example.org/hooks/harness")
    assert routes.destination(DEFAULT).url_in(settings) == "https://hooks.slack.com/D"
    assert "hooks.slack.com/A" not in repr(settings)


@pytest.mark.parametrize(("variable", "value", "message"), [
    ("HARNESS_WEBHOOK_TEAM_A", "hooks.slack.com/x", "must be a http/https URL"),
    ("HARNESS_SUMMARY_GRACE_S", "301", "between 0 and 300 seconds"),
    ("HARNESS_SUMMARY_GRACE_S", "soon", "whole number of seconds"),
])
def test_a_malformed_routing_variable_is_named(variable: str, value: str, message: str
                                               ) -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({variable: value})
    assert str(caught.value).startswith(f"{variable}: ") and message in str(caught.value)
    if variable.startswith("HARNESS_WEBHOOK_"):
        assert value not in str(caught.value)  # a secret


def test_the_summary_grace_is_10_s_unless_set() -> None:
    assert Settings.from_env({}).summary_grace_s == 10
    assert Settings.from_env({"HARNESS_SUMMARY_GRACE_S": "0"}).summary_grace_s == 0


def test_a_routes_file_makes_the_harness_tell_alerts_without_a_default_webhook(
        tmp_path: Path) -> None:
    settings = Settings.from_env({"HARNESS_METRICS_DIR": str(tmp_path)})
    assert not anyone_listens(settings)
    (tmp_path / ROUTES_FILE).write_text(json.dumps(ROUTES))  # JSON is YAML
    assert anyone_listens(settings)
    assert load_routes(tmp_path) == parse_routes(ROUTES)


def test_no_routes_file_is_no_routes(tmp_path: Path) -> None:
    assert load_routes(tmp_path) == Routes()


# --- validation: file and key --------------------------------------------------------------

def test_an_unknown_severity_names_its_route_and_key() -> None:
    found = problems(with_route(match={"severity": ["critical", "urgent"]}, to=["tracker"]))
    assert found == {"routes.yaml.routes[1].match.severity":
                     "must be one of critical, warning, info"}


def test_unknown_kinds_keys_and_destinations_are_named() -> None:
    found = problems(with_route(match={"kind": "regresion", "colour": "red"},
                                to=["tracker", "trackr"]))
    assert found == {
        "routes.yaml.routes[1].match.kind":
            "must be one of regression, improvement, spec, missing, changepoint",
        "routes.yaml.routes[1].match.colour": "Extra inputs are not permitted",
        "routes.yaml.routes[1].to[1]":
            "names no destination (known: astrometry, default, pipelines, tracker)",
    }


def test_a_destination_needs_one_kind_and_one_url() -> None:
    body = {"destinations": {
        "both": {"slack": {"channel": "#a", "url": "https://a.example.org/x"},
                 "webhook": {"url": "https://b.example.org/x"}},
        "no-url": {"webhook": {}},
        "no-channel": {"slack": {"url": "https://a.example.org/x"}},
        "bad-env": {"webhook": {"url_env": "TEAM_A_SLACK"}},
        "bad-url": {"webhook": {"url": "hooks.example.org/x"}},
    }}
    found = problems(body)
    assert found["routes.yaml.destinations.both"] == "needs `slack` or `webhook` (one of them)"
    assert found["routes.yaml.destinations.no-url.webhook"] == \
        "needs `url` or `url_env` (one of them)"
    assert found["routes.yaml.destinations.no-channel.slack.channel"] == "Field required"
    assert found["routes.yaml.destinations.bad-env.webhook.url_env"].startswith(
        "must name a HARNESS_WEBHOOK_… variable")
    assert found["routes.yaml.destinations.bad-url.webhook.url"] == \
        "must be a http/https URL with a host"


def test_destination_names_are_plain_and_default_is_taken() -> None:
    tracker = ROUTES["destinations"]["tracker"]
    found = problems({"destinations": {"Team A": tracker, "default": tracker}})
    assert set(found) == {"routes.yaml.destinations.Team A", "routes.yaml.destinations.default"}


def test_a_route_names_at_least_one_destination() -> None:
    found = problems(with_route(match={"tag": "kpm"}, to=[]))
    assert set(found) == {"routes.yaml.routes[1].to"}


def test_a_file_that_is_not_one_mapping_or_not_yaml(tmp_path: Path) -> None:
    assert problems(["routes"]) == {ROUTES_FILE: "must be one mapping with `destinations` and "
                                                 "`routes`"}
    (tmp_path / ROUTES_FILE).write_text("routes: [to: \n")
    with pytest.raises(CatalogError) as caught:
        load_routes(tmp_path)
    [problem] = caught.value.problems
    assert problem.path == ROUTES_FILE and problem.message.startswith("not valid YAML")


def test_catalog_check_names_the_routes_file_and_key(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    metrics = tmp_path / "metrics"
    shutil.copytree(CHECKOUT / "metrics", metrics)
    (metrics / ROUTES_FILE).write_text(json.dumps(with_route(
        match={"severity": "urgent"}, to=["tracker"])))
    assert main(["catalog", "check", str(metrics)]) == 1
    assert f"{metrics}/routes.yaml.routes[1].match.severity: must be one of critical, " \
           "warning, info" in capsys.readouterr().err.splitlines()

    (metrics / ROUTES_FILE).write_text(json.dumps(ROUTES))
    assert main(["catalog", "check", str(metrics)]) == 0
    assert "3 routes to 3 destinations: OK" in capsys.readouterr().out


# --- what a summary's messages say ---------------------------------------------------------

EIGHT = [alert(series=(metric, {"dataset": dataset}, "main"), metric=metric, build="107",
               started_build="105", unit="s")
         for metric in ("pipe_tasks.runtime", "pipe_tasks.wall_time", "pipe_tasks.peak_memory",
                        "pipe_tasks.n_sources")
         for dataset in ("hsc_rc2", "dc2_test_med")]


def test_a_summary_message_counts_by_metric_and_links_the_summary() -> None:
    summary_id = cause_of(EIGHT[0]).id
    message = summary_message(EIGHT, summary_id, PUBLIC)
    link = PUBLIC + summary_url(summary_id)
    assert message["text"] == f"[warning] 8 alerts in jenkins 105 on main: regression · {link}"
    texts = json.dumps(message["blocks"], ensure_ascii=False)
    assert "pipe_tasks.n_sources 2 · pipe_tasks.peak_memory 2 · pipe_tasks.runtime 2" in texts
    assert all(f"/dash/alerts/{made.id}" in texts for made in EIGHT)
    [actions] = [block for block in message["blocks"] if block["type"] == "actions"]
    assert actions["elements"][0]["url"] == link


def test_a_summary_of_one_alert_is_the_alert_s_own_message_linking_the_summary() -> None:
    summary_id = cause_of(EIGHT[0]).id
    message = summary_message(EIGHT[:1], summary_id, PUBLIC)
    assert f"/dash/alerts/{EIGHT[0].id}" in message["blocks"][0]["text"]["text"]
    assert f"{summary_url(summary_id)}|its summary>" in json.dumps(message["blocks"])


def test_alerts_that_join_later_are_one_short_message() -> None:
    summary_id = cause_of(EIGHT[0]).id
    message = joined_message(EIGHT[6:], summary_id, PUBLIC)
    assert message["text"].startswith("[warning] 2 more alerts joined Regression in jenkins "
                                      "105 on main")
    assert all(f"/dash/alerts/{made.id}" in json.dumps(message) for made in EIGHT[6:])


def test_the_json_notification_describes_the_summary_and_its_alerts() -> None:
    summary_id = cause_of(EIGHT[0]).id
    document = notification("opened", EIGHT[:3], PUBLIC, summary_id)
    assert document["format"] == FORMAT and document["event"] == "opened"
    assert document["summary"]["id"] == summary_id
    assert document["summary"]["links"]["html"] == PUBLIC + summary_url(summary_id)
    assert document["summary"]["build"]["id"] == "105"
    assert document["counts"] == {"pipe_tasks.runtime": 2, "pipe_tasks.wall_time": 1}
    assert [made["id"] for made in document["alerts"]] == [made.id for made in EIGHT[:3]]
    assert "history" not in document["alerts"][0]
    assert document["alerts"][0]["links"]["api"] == f"{PUBLIC}/api/v1/alerts/{EIGHT[0].id}"
    assert notification("acknowledged", EIGHT[:2], PUBLIC)["summary"] is None
    json.dumps(document)

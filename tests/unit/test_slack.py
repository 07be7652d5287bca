"""Slack messages built from literal alerts, without sending them (harness.alerting.slack)."""

from __future__ import annotations

import pytest

from harness.alerting.slack import (
    SECTION_LIMIT,
    alert_links,
    alert_message,
    follow_up_message,
    headline,
    message_for,
)

from .examples import alert

PUBLIC = "https://harness.example.org/"


def test_a_regression_headline_says_how_much_where_and_in_which_build() -> None:
    made = alert(change=0.55, relative_change=0.131)
    assert headline(made) == (":red_circle: Regression: validate_drp.PA1 (dataset=hsc_rc2, "
                              "filter=r) +0.55 mmag (+13 %) on main in jenkins 105")


def test_a_spec_headline_names_the_spec_and_its_limit() -> None:
    # a failed spec is a critical alert (harness.detection.rules.spec_alert)
    made = alert("spec", severity="critical", value=9.5, spec="validate_drp.PA1.minimum",
                 threshold=8.0)
    assert headline(made).endswith("9.5 mmag misses minimum (limit 8 mmag) on main in "
                                   "jenkins 105")


def test_a_design_only_spec_that_fails_is_the_one_the_headline_names() -> None:
    made = alert("spec", severity="critical", metric="calProcTime", dimensions={}, unit="s",
                 value=40.0, spec="calProcTime.design", threshold=30.0)
    assert headline(made) == (":no_entry: Spec not met: calProcTime 40 s misses design "
                              "(limit 30 s) on main in jenkins 105")


def test_meeting_only_the_minimum_is_not_called_missing_it() -> None:
    # a warning spec alert: the value meets its (minimum) spec, and no better level
    made = alert("spec", value=6.0, spec="validate_drp.PA1.minimum", threshold=8.0)
    assert headline(made).endswith("6 mmag meets only minimum (limit 8 mmag), not design "
                                   "on main in jenkins 105")
    assert "misses" not in headline(made)


@pytest.mark.parametrize("kind", ["regression", "spec", "changepoint", "missing"])
def test_values_without_a_unit_have_no_double_space(kind: str) -> None:
    made = alert(kind, unit="", value=4.7, baseline=4.5, change=0.2, relative_change=0.044,
                 spec="validate_drp.PA1.minimum", threshold=8.0, started_build="101",
                 reason="validate_drp.PA1 = 4.7 meets only the minimum spec")
    message = alert_message(made, PUBLIC)
    texts = [message["text"], *(block["text"]["text"] for block in message["blocks"]
                                if block.get("text")),
             *(field["text"] for block in message["blocks"] for field in block.get("fields", ()))]
    assert all("  " not in text and " \n" not in text for text in texts), texts
    assert "*Value*\n4.7" in texts and "*Baseline*\n4.5" in texts


def test_missing_and_change_point_headlines() -> None:
    assert "no measurement on main in jenkins 105" in headline(alert("missing"))
    shifted = alert("changepoint", change=1234.0, started_build="101")
    assert headline(shifted).endswith("+1,234 mmag on main since 101")


def test_links_are_absolute_on_the_public_url() -> None:
    links = alert_links(alert(build_url="https://ci/105", pull_request={"url": "https://pr"}),
                        PUBLIC)
    assert links.build == "https://harness.example.org/dash/builds/jenkins/105"
    assert links.api.startswith("https://harness.example.org/api/v1/alerts/")
    assert (links.ci, links.pull_request) == ("https://ci/105", "https://pr")
    assert alert_links(alert(), PUBLIC).ci is None


def test_an_alert_message_escapes_slack_control_characters_in_the_reason() -> None:
    message = alert_message(alert(reason="a < b & c > d"), PUBLIC)
    texts = [block["text"]["text"] for block in message["blocks"] if block.get("text")]
    assert "a &lt; b &amp; c &gt; d" in texts
    assert message["text"].startswith("[warning] :red_circle: Regression")
    assert message["unfurl_links"] is False


def test_package_changes_are_listed_and_clipped_to_a_section() -> None:
    changes = tuple({"package": f"pkg_{n:03d}", "from": "a" * 12, "to": "b" * 12,
                     "kind": "changed"} for n in range(300))
    message = alert_message(alert(changes=changes), PUBLIC)
    [section] = [b for b in message["blocks"]
                 if b.get("text", {}).get("text", "").startswith("*Package changes*")]
    text = section["text"]["text"]
    assert len(text) <= SECTION_LIMIT and text.rsplit("\n", 1)[1].startswith("… and ")


def test_a_follow_up_says_who_did_what() -> None:
    triaged = alert().with_events([{"event": "resolved", "actor": "ann", "note": "fixed <#12>"}])
    message = message_for(triaged, "resolved", PUBLIC)
    assert message["text"].startswith("Resolved: Regression: validate_drp.PA1")
    assert message["blocks"][1]["elements"][0]["text"] == "by ann · fixed &lt;#12&gt;"
    assert message_for(triaged, "opened", PUBLIC) == alert_message(triaged, PUBLIC)


def test_there_is_no_follow_up_for_other_events() -> None:
    with pytest.raises(ValueError, match="no follow-up message for event 'notified'"):
        follow_up_message(alert(), "notified", PUBLIC)

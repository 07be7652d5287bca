"""What an alert says of the builds it names: the records it needs, then their links and
package changes (harness.alerting.describe), on literal records."""

from __future__ import annotations

from datetime import UTC, datetime

from harness.alerting.describe import describe, wanted
from harness.model import Build, BuildRecord, Measurement, Package, Submission
from harness.times import nanoseconds

from .examples import DIMENSIONS, PA1, alert

NOW = datetime(2026, 11, 20, 3, tzinfo=UTC)
ONSET_TIME = datetime(2026, 11, 17, 3, tzinfo=UTC)
THIS = Build("jenkins", "105", "main", NOW, "https://ci/105", "c105",
             packages=(Package("jointcal", "bbb", "https://git.example.org/jointcal"),))
SUBMISSION = Submission("s105", THIS, (Measurement(PA1.name, 6.0, "mmag", DIMENSIONS),), NOW)


def record(build_id: str, moment: datetime, commit: str) -> BuildRecord:
    """A stored build of main with one package at a commit."""
    build = Build("jenkins", build_id, "main", moment, f"https://ci/{build_id}", f"c{build_id}",
                  packages=(Package("jointcal", commit, "https://git.example.org/jointcal"),))
    return BuildRecord(build, nanoseconds(moment))


def test_an_alert_of_this_build_needs_only_the_build_before_it() -> None:
    spec = alert("spec", time="2026-11-20T03:00:00Z")
    assert wanted([spec], SUBMISSION).builds == ()
    assert wanted([spec], SUBMISSION).before == (("main", nanoseconds(NOW)),)


def test_an_excursion_that_began_earlier_needs_its_onset_and_the_build_before_that() -> None:
    regression = alert(started_build="102", started_time="2026-11-17T03:00:00Z",
                       time="2026-11-20T03:00:00Z")
    need = wanted([regression, regression], SUBMISSION)
    assert need.builds == (("jenkins", "102"),)
    assert need.before == (("main", nanoseconds(ONSET_TIME)),)


def test_the_onset_builds_package_changes_and_the_noticing_builds_link_are_added() -> None:
    late = alert(build="107", time="2026-11-22T03:00:00Z", started_build="102",
                 started_time="2026-11-17T03:00:00Z")
    records = {("jenkins", "107"): record("107", datetime(2026, 11, 22, 3, tzinfo=UTC), "ccc"),
               ("jenkins", "102"): record("102", ONSET_TIME, "bbb")}
    previous = {("main", nanoseconds(ONSET_TIME)): record("101", datetime(2026, 11, 16, 3,
                                                                          tzinfo=UTC), "aaa")}
    (described,) = describe([late], SUBMISSION, records, previous)
    assert (described.build_url, described.commit) == ("https://ci/107", "c107")
    (change,) = described.changes
    assert (change["package"], change["from"], change["to"]) == ("jointcal", "aaa", "bbb")
    assert change["compare_url"] == "https://git.example.org/jointcal/compare/aaa...bbb"


def test_this_builds_packages_are_compared_with_the_build_before_it() -> None:
    spec = alert("spec", time="2026-11-20T03:00:00Z", build_url="https://ci/105")
    previous = {("main", nanoseconds(NOW)): record("104", ONSET_TIME, "aaa")}
    (described,) = describe([spec], SUBMISSION, {}, previous)
    assert [c["to"] for c in described.changes] == ["bbb"]
    assert described.build_url == "https://ci/105"


def test_a_build_without_a_record_or_predecessor_adds_nothing() -> None:
    regression = alert(started_build="102", started_time="2026-11-17T03:00:00Z")
    assert describe([regression], SUBMISSION, {("jenkins", "102"): None}, {}) == [regression]

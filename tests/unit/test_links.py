"""Dashboard URLs: stable, percent-encoded, arguments in a fixed order (harness.links)."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

from hypothesis import given
from hypothesis import strategies as st

from harness import links


def test_a_metric_url_sorts_dimensions_and_ends_with_the_branch() -> None:
    assert links.metric_url("validate_drp.PA1", {"filter": "r", "dataset": "hsc"}, "main") == \
        "/dash/metrics/validate_drp.PA1?dataset=hsc&filter=r&branch=main"


def test_extra_arguments_come_sorted_after_the_branch_and_empty_ones_are_dropped() -> None:
    assert links.metric_url("pkg.m", {}, "main", until="2026-01-02", since="2026-01-01",
                            x=None, prs="") == \
        "/dash/metrics/pkg.m?branch=main&since=2026-01-01&until=2026-01-02"


def test_names_with_slashes_and_spaces_are_one_path_segment() -> None:
    assert links.build_url("gitlab ci", "42/retry") == "/dash/builds/gitlab%20ci/42%2Fretry"
    assert links.metric_url("a/b", {}, "main").startswith("/dash/metrics/a%2Fb?")
    assert links.report_url("ci", "1/2") == "/dash/report/ci/1%2F2"


def test_query_values_are_encoded() -> None:
    url = links.metric_url("pkg.m", {"dataset": "a&b=c"}, "feature/x y")
    assert dict(parse_qsl(urlsplit(url).query)) == {"dataset": "a&b=c", "branch": "feature/x y"}


def test_an_alert_url() -> None:
    assert links.alert_url("0123abcd") == "/dash/alerts/0123abcd"


def test_a_blob_url_names_the_metric_dimensions_build_and_template() -> None:
    url = links.blob_url("ff00", "pkg.m", {"filter": "r"}, ("jenkins", "9"), "histogram")
    assert url == "/dash/blobs/ff00?metric=pkg.m&filter=r&ci=jenkins&build=9&template=histogram"
    assert links.blob_url("ff00", "pkg.m", {}) == "/dash/blobs/ff00?metric=pkg.m"


def test_a_release_report_url_repeats_build_and_keeps_a_fixed_order() -> None:
    assert links.release_report_url(builds=[("jenkins", "1"), ("gha", "2")], name="R 1") == \
        "/dash/report?build=jenkins%2F1&build=gha%2F2&name=R+1"
    assert links.release_report_url("main", until="2026-11-20T00:00:00Z") == \
        "/dash/report?branch=main&until=2026-11-20T00%3A00%3A00Z"
    assert links.release_report_url("main", since="2026-10-01T00:00:00Z") == \
        "/dash/report?branch=main&since=2026-10-01T00%3A00%3A00Z"
    assert links.release_report_url() == "/dash/report?"


text = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), min_size=1,
               max_size=20)


@given(text, st.dictionaries(st.sampled_from(["dataset", "filter", "instrument"]), text),
       text)
def test_a_metric_url_reads_back_as_what_made_it(
        metric: str, dimensions: dict[str, str], branch: str) -> None:
    url = urlsplit(links.metric_url(metric, dimensions, branch))
    assert url.path.count("/") == 3
    assert parse_qsl(url.query, keep_blank_values=True) == [
        *sorted(dimensions.items()), ("branch", branch)]


@given(text, text)
def test_a_build_url_is_two_segments_whatever_the_names(ci: str, build_id: str) -> None:
    path = links.build_url(ci, build_id)
    assert path.startswith("/dash/builds/") and path.count("/") == 4

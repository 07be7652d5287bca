"""Build identity from each CI system's environment, and the HARNESS_BUILD_* overrides."""

from __future__ import annotations

import pytest

from harness.client.ci_env import BuildEnvError, build_from_env, detect_ci, require_identity

GITHUB_PUSH = {
    "GITHUB_ACTIONS": "true",
    "GITHUB_RUN_ID": "9187",
    "GITHUB_SERVER_URL": "https://github.com",
    "GITHUB_REPOSITORY": "lsst/pipe_tasks",
    "GITHUB_REF": "refs/heads/main",
    "GITHUB_REF_NAME": "main",
    "GITHUB_HEAD_REF": "",  # GitHub sets it, empty, outside pull requests
    "GITHUB_BASE_REF": "",
    "GITHUB_SHA": "3f2c9e1",
}
GITHUB_PR = {
    **GITHUB_PUSH,
    "GITHUB_REF": "refs/pull/412/merge",
    "GITHUB_REF_NAME": "412/merge",
    "GITHUB_HEAD_REF": "tickets/DM-1234",
    "GITHUB_BASE_REF": "main",
}
GITLAB_PUSH = {
    "GITLAB_CI": "true",
    "CI_PIPELINE_ID": "5521",
    "CI_PIPELINE_URL": "https://gitlab.example.org/dm/pipe/-/pipelines/5521",
    "CI_COMMIT_REF_NAME": "main",
    "CI_COMMIT_SHA": "a1b2c3d",
}
GITLAB_MR = {
    **GITLAB_PUSH,
    "CI_COMMIT_REF_NAME": "feature/faster",
    "CI_MERGE_REQUEST_IID": "37",
    "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature/faster",
    "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
    "CI_MERGE_REQUEST_PROJECT_URL": "https://gitlab.example.org/dm/pipe",
}
JENKINS_FREESTYLE = {
    "JENKINS_URL": "https://ci.lsst.codes/",
    "BUILD_NUMBER": "812",
    "BUILD_TAG": "jenkins-validate_drp-812",
    "BUILD_URL": "https://ci.lsst.codes/job/validate_drp/812/",
    "JOB_NAME": "validate_drp",
    "GIT_BRANCH": "origin/main",
    "GIT_COMMIT": "77ab0e2",
}
JENKINS_PR = {
    "JENKINS_URL": "https://ci.lsst.codes/",
    "BUILD_NUMBER": "3",
    "BUILD_TAG": "jenkins-pipe_tasks-PR-12-3",
    "BUILD_URL": "https://ci.lsst.codes/job/pipe_tasks/job/PR-12/3/",
    "JOB_NAME": "pipe_tasks/PR-12",
    "BRANCH_NAME": "PR-12",
    "GIT_BRANCH": "PR-12",
    "GIT_COMMIT": "9e8d7c6",
    "CHANGE_ID": "12",
    "CHANGE_URL": "https://github.com/lsst/pipe_tasks/pull/12",
    "CHANGE_TARGET": "main",
    "CHANGE_BRANCH": "tickets/DM-99",
}
BUILDKITE_PUSH = {
    "BUILDKITE": "true",
    "BUILDKITE_BUILD_ID": "0190c7a2-2a1d-4f55-9d5e-2bb8d5a1f0a3",
    "BUILDKITE_BUILD_NUMBER": "1514",
    "BUILDKITE_PIPELINE_SLUG": "nightly",
    "BUILDKITE_BUILD_URL": "https://buildkite.com/acme/nightly/builds/1514",
    "BUILDKITE_BRANCH": "main",
    "BUILDKITE_COMMIT": "c0ffee1",
    "BUILDKITE_PULL_REQUEST": "false",
    "BUILDKITE_PULL_REQUEST_BASE_BRANCH": "",
    "BUILDKITE_REPO": "git@github.com:acme/pipeline.git",
}
BUILDKITE_PR = {
    **BUILDKITE_PUSH,
    "BUILDKITE_BRANCH": "speed-up",
    "BUILDKITE_PULL_REQUEST": "88",
    "BUILDKITE_PULL_REQUEST_BASE_BRANCH": "main",
}


def test_github_actions_push():
    assert build_from_env(GITHUB_PUSH) == {
        "ci": "github-actions", "id": "9187",
        "url": "https://github.com/lsst/pipe_tasks/actions/runs/9187",
        "branch": "main", "commit": "3f2c9e1",
    }
    assert detect_ci(GITHUB_PUSH) == "GitHub Actions"


def test_github_actions_pull_request_takes_the_head_branch_and_the_number_from_the_ref():
    build = build_from_env(GITHUB_PR)
    assert build["branch"] == "tickets/DM-1234"
    assert build["pull_request"] == {
        "number": 412, "url": "https://github.com/lsst/pipe_tasks/pull/412", "base": "main"}


def test_gitlab_ci_push():
    assert build_from_env(GITLAB_PUSH) == {
        "ci": "gitlab-ci", "id": "5521",
        "url": "https://gitlab.example.org/dm/pipe/-/pipelines/5521",
        "branch": "main", "commit": "a1b2c3d",
    }


def test_gitlab_ci_merge_request():
    build = build_from_env(GITLAB_MR)
    assert build["branch"] == "feature/faster"
    assert build["pull_request"] == {
        "number": 37, "url": "https://gitlab.example.org/dm/pipe/-/merge_requests/37",
        "base": "main"}
    assert detect_ci(GITLAB_MR) == "GitLab CI"


def test_jenkins_freestyle_job_strips_the_remote_from_the_branch():
    assert build_from_env(JENKINS_FREESTYLE) == {
        "ci": "jenkins", "id": "jenkins-validate_drp-812",
        "url": "https://ci.lsst.codes/job/validate_drp/812/",
        "branch": "main", "commit": "77ab0e2",
    }


def test_jenkins_multibranch_pull_request():
    build = build_from_env(JENKINS_PR)
    assert (build["id"], build["branch"], build["commit"]) == (
        "jenkins-pipe_tasks-PR-12-3", "tickets/DM-99", "9e8d7c6")
    assert build["pull_request"] == {
        "number": 12, "url": "https://github.com/lsst/pipe_tasks/pull/12", "base": "main"}


def test_jenkins_without_a_build_tag_uses_the_build_number():
    env = {key: value for key, value in JENKINS_FREESTYLE.items() if key != "BUILD_TAG"}
    assert build_from_env(env)["id"] == "812"


def test_buildkite_push_has_no_pull_request_when_it_says_false():
    assert build_from_env(BUILDKITE_PUSH) == {
        "ci": "buildkite", "id": "nightly-1514",
        "url": "https://buildkite.com/acme/nightly/builds/1514",
        "branch": "main", "commit": "c0ffee1",
    }


def test_buildkite_pull_request_links_the_repository_page():
    build = build_from_env(BUILDKITE_PR)
    assert build["branch"] == "speed-up"
    assert build["pull_request"] == {
        "number": 88, "url": "https://github.com/acme/pipeline/pull/88", "base": "main"}
    assert detect_ci(BUILDKITE_PR) == "Buildkite"


def test_buildkite_symbolic_head_is_not_a_commit():
    assert "commit" not in build_from_env({**BUILDKITE_PUSH, "BUILDKITE_COMMIT": "HEAD"})


def test_overrides_win_over_the_detected_ci():
    env = {
        **GITHUB_PR,
        "HARNESS_BUILD_CI": "nightly", "HARNESS_BUILD_ID": "2026-11-20",
        "HARNESS_BUILD_URL": "https://ci.example.org/n/2026-11-20",
        "HARNESS_BUILD_BRANCH": "release", "HARNESS_BUILD_COMMIT": "deadbee",
        "HARNESS_BUILD_TIME": "2026-11-20T03:12:00Z",
        "HARNESS_BUILD_PR_NUMBER": "500", "HARNESS_BUILD_PR_BASE": "develop",
    }
    assert build_from_env(env) == {
        "ci": "nightly", "id": "2026-11-20", "url": "https://ci.example.org/n/2026-11-20",
        "branch": "release", "commit": "deadbee", "time": "2026-11-20T03:12:00Z",
        "pull_request": {"number": 500, "url": "https://github.com/lsst/pipe_tasks/pull/412",
                         "base": "develop"},
    }


def test_overrides_alone_describe_a_build_outside_ci():
    env = {"HARNESS_BUILD_CI": "laptop", "HARNESS_BUILD_ID": "7", "HARNESS_BUILD_BRANCH": "main",
           "HARNESS_BUILD_PR_NUMBER": "3", "HARNESS_BUILD_PR_URL": "https://git.example.org/pr/3"}
    assert detect_ci(env) is None
    assert build_from_env(env) == {
        "ci": "laptop", "id": "7", "branch": "main",
        "pull_request": {"number": 3, "url": "https://git.example.org/pr/3"}}


def test_no_ci_and_no_overrides_names_the_variables_to_set():
    build = build_from_env({"HOME": "/root"})
    assert build == {}
    with pytest.raises(BuildEnvError) as raised:
        require_identity(build, {"HOME": "/root"})
    message = str(raised.value)
    assert "no CI detected" in message
    assert "HARNESS_BUILD_ID" in message and "HARNESS_BUILD_BRANCH" in message


def test_a_detected_ci_without_a_run_id_names_the_override():
    env = {key: value for key, value in GITHUB_PUSH.items() if key != "GITHUB_RUN_ID"}
    with pytest.raises(BuildEnvError, match=r"GitHub Actions did not say; set HARNESS_BUILD_ID$"):
        require_identity(build_from_env(env), env)


@pytest.mark.parametrize("env", [
    {"HARNESS_BUILD_PR_NUMBER": "twelve"},
    {"HARNESS_BUILD_PR_URL": "https://git.example.org/pr/3"},
])
def test_malformed_pull_request_overrides_are_errors(env):
    with pytest.raises(BuildEnvError, match="HARNESS_BUILD_PR_NUMBER"):
        build_from_env(env)

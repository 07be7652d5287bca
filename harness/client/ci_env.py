"""A build's identity from the CI's environment: GitHub Actions, GitLab CI, Jenkins or
Buildkite variables, then `HARNESS_BUILD_*` overrides → a native `build` object (API.md,
"Ingest"). Pure functions of a mapping, so they are tested without touching os.environ;
the mapping is written down in docs/ci.md."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

Env = Mapping[str, str]

OVERRIDES = {  # build key → the variable that sets it, whatever the CI says
    "ci": "HARNESS_BUILD_CI",
    "id": "HARNESS_BUILD_ID",
    "url": "HARNESS_BUILD_URL",
    "branch": "HARNESS_BUILD_BRANCH",
    "commit": "HARNESS_BUILD_COMMIT",
    "time": "HARNESS_BUILD_TIME",
}
PR_OVERRIDES = {
    "number": "HARNESS_BUILD_PR_NUMBER",
    "url": "HARNESS_BUILD_PR_URL",
    "base": "HARNESS_BUILD_PR_BASE",
}
IDENTITY = ("ci", "id", "branch")  # what a native build must have
SYSTEMS = "GitHub Actions, GitLab CI, Jenkins, Buildkite"


class BuildEnvError(ValueError):
    """The environment says too little about the build, or says it wrongly."""


def build_from_env(env: Env) -> dict[str, Any]:
    """The build the environment describes: the detected CI's variables, then the overrides."""
    detected = next((build for _, read in _READERS if (build := read(env)) is not None), {})
    build = {key: value for key, value in detected.items() if value is not None}
    for key, variable in OVERRIDES.items():
        if value := _get(env, variable):
            build[key] = value
    pull_request = {**build.get("pull_request", {}), **_pr_overrides(env)}
    if pull_request:
        if "number" not in pull_request:
            raise BuildEnvError("HARNESS_BUILD_PR_URL or HARNESS_BUILD_PR_BASE is set but the "
                                "pull request has no number: set HARNESS_BUILD_PR_NUMBER")
        build["pull_request"] = pull_request
    return build


def detect_ci(env: Env) -> str | None:
    """The name of the CI system the environment belongs to, or None."""
    return next((name for name, read in _READERS if read(env) is not None), None)


def require_identity(build: Mapping[str, Any], env: Env,
                     keys: Sequence[str] = IDENTITY) -> None:
    """Raise BuildEnvError naming the HARNESS_BUILD_* variables to set for each missing key."""
    missing = [key for key in keys if build.get(key) in (None, "")]
    if not missing:
        return
    system = detect_ci(env)
    why = f"{system} did not say" if system else f"no CI detected ({SYSTEMS})"
    variables = ", ".join(OVERRIDES[key] for key in missing)
    raise BuildEnvError(f"no build {' or '.join(missing)}: {why}; set {variables}")


def _get(env: Env, name: str) -> str | None:
    """A variable's value; unset and empty (as CIs often leave them) are both None."""
    value = env.get(name, "").strip()
    return value or None


def _number(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() and int(text) > 0 else None


def _pull_request(number: int | None, url: str | None, base: str | None) -> dict[str, Any] | None:
    if number is None:
        return None
    return {key: value for key, value in (("number", number), ("url", url), ("base", base))
            if value is not None}


def _pr_overrides(env: Env) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, variable in PR_OVERRIDES.items():
        if value := _get(env, variable):
            found[key] = value
    if "number" in found:
        number = _number(found["number"])
        if number is None:
            raise BuildEnvError(
                f"HARNESS_BUILD_PR_NUMBER must be a positive integer, got {found['number']!r}")
        found["number"] = number
    return found


def _github(env: Env) -> dict[str, Any] | None:
    if _get(env, "GITHUB_ACTIONS") != "true":
        return None
    server = _get(env, "GITHUB_SERVER_URL") or "https://github.com"
    repository, run = _get(env, "GITHUB_REPOSITORY"), _get(env, "GITHUB_RUN_ID")
    web = f"{server.rstrip('/')}/{repository}" if repository else None
    ref = re.fullmatch(r"refs/pull/(\d+)/(?:merge|head)", _get(env, "GITHUB_REF") or "")
    number = _number(ref[1]) if ref else None
    return {
        "ci": "github-actions",
        "id": run,
        "url": f"{web}/actions/runs/{run}" if web and run else None,
        # GITHUB_REF_NAME is "<number>/merge" in a PR build; the PR's own branch is HEAD_REF
        "branch": _get(env, "GITHUB_HEAD_REF") or _get(env, "GITHUB_REF_NAME"),
        "commit": _get(env, "GITHUB_SHA"),
        "pull_request": _pull_request(number, f"{web}/pull/{number}" if web else None,
                                      _get(env, "GITHUB_BASE_REF")),
    }


def _gitlab(env: Env) -> dict[str, Any] | None:
    if _get(env, "GITLAB_CI") != "true":
        return None
    number = _number(_get(env, "CI_MERGE_REQUEST_IID"))
    project = _get(env, "CI_MERGE_REQUEST_PROJECT_URL")
    return {
        "ci": "gitlab-ci",
        "id": _get(env, "CI_PIPELINE_ID"),
        "url": _get(env, "CI_PIPELINE_URL"),
        "branch": _get(env, "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME")
        or _get(env, "CI_COMMIT_REF_NAME"),
        "commit": _get(env, "CI_COMMIT_SHA"),
        "pull_request": _pull_request(
            number, f"{project.rstrip('/')}/-/merge_requests/{number}" if project else None,
            _get(env, "CI_MERGE_REQUEST_TARGET_BRANCH_NAME")),
    }


def _jenkins(env: Env) -> dict[str, Any] | None:
    tag = _get(env, "BUILD_TAG")
    if not (_get(env, "JENKINS_URL") or (tag or "").startswith("jenkins-")):
        return None
    git_branch = _get(env, "GIT_BRANCH")
    if git_branch:  # a freestyle job's GIT_BRANCH names the remote: origin/main
        git_branch = re.sub(r"^(refs/heads/|refs/remotes/[^/]+/|origin/)", "", git_branch)
    return {
        "ci": "jenkins",
        # BUILD_TAG (jenkins-<job>-<number>) is unique across the jobs of one Jenkins
        "id": tag or _get(env, "BUILD_NUMBER"),
        "url": _get(env, "BUILD_URL"),
        # in a multibranch PR build BRANCH_NAME is "PR-12"; CHANGE_BRANCH is the real one
        "branch": _get(env, "CHANGE_BRANCH") or _get(env, "BRANCH_NAME") or git_branch,
        "commit": _get(env, "GIT_COMMIT"),
        "pull_request": _pull_request(_number(_get(env, "CHANGE_ID")), _get(env, "CHANGE_URL"),
                                      _get(env, "CHANGE_TARGET")),
    }


def _buildkite(env: Env) -> dict[str, Any] | None:
    if _get(env, "BUILDKITE") != "true":
        return None
    pipeline, number = _get(env, "BUILDKITE_PIPELINE_SLUG"), _get(env, "BUILDKITE_BUILD_NUMBER")
    commit = _get(env, "BUILDKITE_COMMIT")
    pr_number = _number(_get(env, "BUILDKITE_PULL_REQUEST"))  # "false" when there is none
    return {
        "ci": "buildkite",
        # build numbers count per pipeline, so the pipeline makes them unique
        "id": f"{pipeline}-{number}" if pipeline and number
        else _get(env, "BUILDKITE_BUILD_ID") or number,
        "url": _get(env, "BUILDKITE_BUILD_URL"),
        "branch": _get(env, "BUILDKITE_BRANCH"),
        "commit": commit if commit != "HEAD" else None,
        "pull_request": _pull_request(
            pr_number, _pull_request_url(_get(env, "BUILDKITE_REPO"), pr_number),
            _get(env, "BUILDKITE_PULL_REQUEST_BASE_BRANCH")),
    }


PULL_REQUEST_PATHS = {"github": "pull", "gitlab": "-/merge_requests", "bitbucket": "pull-requests"}


def _pull_request_url(repository: str | None, number: int | None) -> str | None:
    """A PR's web page from a clone URL (git@host:org/repo.git or https://host/org/repo.git)."""
    if not repository or number is None:
        return None
    match = re.fullmatch(r"(?:\w+://)?(?:[^@/]+@)?([^:/]+)(?::\d+)?[:/](.+?)(?:\.git)?/?",
                         repository)
    if match is None:
        return None
    host, path = match[1], match[2]
    kind = next((kind for kind in PULL_REQUEST_PATHS if kind in host), None)
    return f"https://{host}/{path}/{PULL_REQUEST_PATHS[kind]}/{number}" if kind else None


_READERS: tuple[tuple[str, Callable[[Env], dict[str, Any] | None]], ...] = (
    ("GitHub Actions", _github),
    ("GitLab CI", _gitlab),
    ("Jenkins", _jenkins),
    ("Buildkite", _buildkite),
)

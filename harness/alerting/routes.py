"""Routing: which destinations hear of an alert, as `routes.yaml` in the metrics folder says.

A route matches alerts by metric name globs, catalog tags, kinds and severities (each key
one value or a list: any of them; the keys together: all of them) and names the
destinations they go to, each a Slack incoming webhook (with its channel's name) or a JSON
webhook. An alert goes to every destination of every route it matches, once; an alert no
route matches goes to the `default` destination, HARNESS_SLACK_WEBHOOK_URL. No file: every
alert goes to the default, as without routing. See docs/decisions.md 80-81."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from harness.alerting.alerts import Alert, AlertKind, Severity
from harness.catalog.documents import document_problems
from harness.catalog.loader import GLOB
from harness.catalog.model import ROUTES_FILE
from harness.errors import CatalogError, Problem
from harness.settings import Settings

DEFAULT = "default"  # HARNESS_SLACK_WEBHOOK_URL: where the alerts no route matches go
NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")  # a destination's name: part of Redis keys
URL_ENV = re.compile(r"HARNESS_WEBHOOK_[A-Z0-9_]+")  # what Settings reads (webhook_urls)
KINDS: tuple[str, ...] = get_args(AlertKind)
SEVERITIES: tuple[str, ...] = get_args(Severity)
DestinationKind = Literal["slack", "webhook"]


@dataclass(frozen=True)
class Destination:
    """Where messages go: a Slack incoming webhook (of a channel) or a JSON webhook, by a
    literal URL or a HARNESS_WEBHOOK_* variable that holds it (a secret)."""

    name: str
    kind: DestinationKind = "slack"
    channel: str = ""
    url: str | None = None
    url_env: str | None = None

    def url_in(self, settings: Settings) -> str | None:
        """The webhook URL: the literal one, else the variable's (None while it is unset)."""
        if self.name == DEFAULT:
            return settings.slack_webhook_url
        return self.url or (settings.webhook_url(self.url_env) if self.url_env else None)


@dataclass(frozen=True)
class Match:
    """What a route's alerts have: one of the globs, tags, kinds and severities (an empty
    one: any)."""

    metrics: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    kinds: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()

    def matches(self, alert: Alert, tags: Collection[str]) -> bool:
        """Whether the alert (whose metric has these catalog tags) is one of the route's."""
        return ((not self.metrics or any(fnmatchcase(alert.metric, glob) for glob in self.metrics))
                and (not self.tags or any(tag in tags for tag in self.tags))
                and (not self.kinds or alert.kind in self.kinds)
                and (not self.severities or alert.severity in self.severities))


@dataclass(frozen=True)
class Route:
    """Alerts that match go to these destinations (by name)."""

    match: Match
    to: tuple[str, ...]


@dataclass(frozen=True)
class Routes:
    """The routes of a metrics folder and the destinations they name."""

    routes: tuple[Route, ...] = ()
    destinations: Mapping[str, Destination] = field(default_factory=dict)

    def destinations_of(self, alert: Alert, tags: Collection[str]) -> tuple[str, ...]:
        """The names of the destinations that hear of an alert, each once, in the order the
        routes name them; the default one when no route matches."""
        names = [name for route in self.routes if route.match.matches(alert, tags)
                 for name in route.to]
        return tuple(dict.fromkeys(names)) or (DEFAULT,)

    def split(self, alerts: Iterable[Alert], tags_of: Callable[[str], Collection[str]]
              ) -> dict[str, list[Alert]]:
        """Destination name → the alerts it hears of (in the order given)."""
        plan: dict[str, list[Alert]] = {}
        for alert in alerts:
            for name in self.destinations_of(alert, tags_of(alert.metric)):
                plan.setdefault(name, []).append(alert)
        return plan

    def destination(self, name: str) -> Destination:
        """The destination of this name (`default`: HARNESS_SLACK_WEBHOOK_URL)."""
        return self.destinations.get(name) or Destination(DEFAULT)


def anyone_listens(settings: Settings) -> bool:
    """Whether alerts are told anywhere: the default webhook is set, or the metrics folder
    routes them. The worker and the web process ask this before queueing a message."""
    return bool(settings.slack_webhook_url) or (settings.metrics_dir / ROUTES_FILE).is_file()


# --- reading and validating the file -------------------------------------------------------


def load_routes(directory: Path) -> Routes:
    """The routes of a metrics folder (none without a routes file); CatalogError naming file
    and key of each problem."""
    path = Path(directory) / ROUTES_FILE
    if not path.is_file():
        return Routes()
    try:
        docs = [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8"))
                if doc is not None]
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise CatalogError([Problem(ROUTES_FILE, f"not valid YAML: {error}")]) from None
    return parse_routes(docs[0] if len(docs) == 1 else docs)


def parse_routes(body: Any) -> Routes:
    """Routes from the file's one document; CatalogError naming the key of each problem."""
    if not isinstance(body, dict):
        raise CatalogError([Problem(ROUTES_FILE, "must be one mapping with `destinations` "
                                                 "and `routes`")])
    problems = _name_problems(body)
    try:
        doc = RoutesDoc.model_validate(body)
    except ValidationError as error:
        raise CatalogError(document_problems(error, ROUTES_FILE, body) + problems) from None
    if problems:
        raise CatalogError(problems)
    return Routes(
        routes=tuple(Route(Match(tuple(route.match.metric), tuple(route.match.tag),
                                 tuple(route.match.kind), tuple(route.match.severity)),
                           tuple(dict.fromkeys(route.to)))
                     for route in doc.routes),
        destinations={name: destination.build(name)
                      for name, destination in doc.destinations.items()},
    )


def _name_problems(body: dict[str, Any]) -> list[Problem]:
    """The destinations' names that are not plain, and the names of routes' `to` that name
    no destination (read from the body as written, so that they are found alongside the
    problems of its shape)."""
    declared = body.get("destinations")
    names = [str(name) for name in declared] if isinstance(declared, dict) else []
    problems = [Problem(f"{ROUTES_FILE}.destinations.{name}",
                        f"must be a name of lowercase letters, digits, '-' and '_', not "
                        f"`{DEFAULT}` (which is HARNESS_SLACK_WEBHOOK_URL)")
                for name in names if not NAME.fullmatch(name) or name == DEFAULT]
    known = sorted({*names, DEFAULT})
    routes = body.get("routes")
    for index, route in enumerate(routes if isinstance(routes, list) else []):
        targets = route.get("to") if isinstance(route, dict) else None
        targets = [targets] if isinstance(targets, str) else targets
        problems += [Problem(f"{ROUTES_FILE}.routes[{index}].to[{position}]",
                             f"names no destination (known: {', '.join(known)})")
                     for position, name in enumerate(targets if isinstance(targets, list) else [])
                     if isinstance(name, str) and name not in known]
    return problems


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _one_of(values: list[str], allowed: tuple[str, ...]) -> list[str]:
    if any(value not in allowed for value in values):
        raise PydanticCustomError("one_of", "must be one of {allowed}",
                                  {"allowed": ", ".join(allowed)})
    return values


class MatchDoc(_Doc):
    metric: list[str] = []
    tag: list[str] = []
    kind: list[str] = []
    severity: list[str] = []

    @field_validator("metric", "tag", "kind", "severity", mode="before")
    @classmethod
    def _listed(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("metric")
    @classmethod
    def _globs(cls, globs: list[str]) -> list[str]:
        if not all(GLOB.fullmatch(glob) for glob in globs):
            raise PydanticCustomError("glob", "must be metric name globs, e.g. validate_drp.AM*")
        return globs

    @field_validator("kind")
    @classmethod
    def _kinds(cls, kinds: list[str]) -> list[str]:
        return _one_of(kinds, KINDS)

    @field_validator("severity")
    @classmethod
    def _severities(cls, severities: list[str]) -> list[str]:
        return _one_of(severities, SEVERITIES)


class EndpointDoc(_Doc):
    url: str | None = None
    url_env: str | None = None

    @field_validator("url")
    @classmethod
    def _http(cls, url: str | None) -> str | None:
        parts = urlsplit(url or "")
        if url is not None and (parts.scheme not in ("http", "https") or not parts.hostname):
            raise PydanticCustomError("url", "must be a http/https URL with a host")
        return url

    @field_validator("url_env")
    @classmethod
    def _variable(cls, name: str | None) -> str | None:
        if name is not None and not URL_ENV.fullmatch(name):
            raise PydanticCustomError(
                "url_env", "must name a HARNESS_WEBHOOK_… variable (e.g. "
                           "HARNESS_WEBHOOK_TEAM_A), the ones the harness reads")
        return name

    @model_validator(mode="after")
    def _one_url(self) -> EndpointDoc:
        if (self.url is None) == (self.url_env is None):
            raise PydanticCustomError("url_or_env", "needs `url` or `url_env` (one of them)")
        return self


class SlackDoc(EndpointDoc):
    channel: str = Field(min_length=1)  # for people (the README): the webhook fixes it


class DestinationDoc(_Doc):
    slack: SlackDoc | None = None
    webhook: EndpointDoc | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> DestinationDoc:
        if (self.slack is None) == (self.webhook is None):
            raise PydanticCustomError("slack_or_webhook",
                                      "needs `slack` or `webhook` (one of them)")
        return self

    def build(self, name: str) -> Destination:
        """The destination this document describes."""
        if self.slack is not None:
            return Destination(name, "slack", self.slack.channel, self.slack.url,
                               self.slack.url_env)
        assert self.webhook is not None
        return Destination(name, "webhook", "", self.webhook.url, self.webhook.url_env)


class RouteDoc(_Doc):
    match: MatchDoc = MatchDoc()
    to: list[str] = Field(min_length=1)

    @field_validator("to", mode="before")
    @classmethod
    def _listed(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class RoutesDoc(_Doc):
    destinations: dict[str, DestinationDoc] = {}
    routes: list[RouteDoc] = []

"""The catalog's YAML documents as pydantic models, and their validation errors as problems
naming the place (shared by files and JSON definitions)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from harness.catalog.model import parse_cadence
from harness.errors import Problem
from harness.units import parse_unit

# --- YAML documents, validated with pydantic ---------------------------------------------


class _Doc(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DimensionDoc(_Doc):
    description: str = ""
    aliases: list[str] = []


class RequirementDoc(_Doc):
    title: str = ""
    document: str = ""
    url: str = ""


class PatternSpecDoc(_Doc):
    level: Literal["minimum", "design", "stretch"]
    operator: Literal["<", "<=", ">", ">=", "==", "!="]
    threshold: float = Field(allow_inf_nan=False)  # in the unit of the metric it matches


class PatternDoc(_Doc):
    tags: list[str] = []
    detection: Any = None  # as a metric's `detection:` (harness.catalog.detection)
    specs: list[PatternSpecDoc] = []


class SettingsDoc(_Doc):
    default_branch: str = "main"
    dimensions: dict[str, DimensionDoc] = {}
    requirements: dict[str, RequirementDoc] = {}
    registered: dict[str, PatternDoc] = {}  # name glob → what metrics registered on use get


class MetricDoc(_Doc):
    description: str = ""
    display_name: str = ""
    unit: str
    better: Literal["lower", "higher"] | None = None
    dimensions: list[str] = []
    optional_dimensions: list[str] = []  # of `dimensions`: a measurement may omit them
    requirements: list[str] = []
    reference: dict[str, str | int] = {}
    tags: list[str] = []
    cadence: str | None = None

    @field_validator("cadence")
    @classmethod
    def _duration(cls, cadence: str | None) -> str | None:
        if cadence is not None:
            parse_cadence(cadence)
        return cadence

    @field_validator("unit")
    @classmethod
    def _known_unit(cls, unit: str) -> str:
        parse_unit(unit)
        return unit


class ThresholdDoc(_Doc):
    value: float = Field(allow_inf_nan=False)
    unit: str | None = None
    operator: Literal["<", "<=", ">", ">=", "==", "!="]


class SpecDoc(_Doc):
    name: str
    metric: str
    threshold: ThresholdDoc
    tags: list[str] = []
    metadata_query: dict[str, str | int | float | list[str | int | float]] = {}
    description: str = ""


# --- validation errors as problems -------------------------------------------------------


def document_problems(error: ValidationError, where: str, body: Any = None) -> list[Problem]:
    """Pydantic's errors as problems under `where`; with the validated body, only the parts
    of each location that are places in it (not pydantic's union-member tags)."""
    problems = []
    for item in error.errors():
        loc = item["loc"] if body is None else in_body(body, item["loc"],
                                                       missing=item["type"] == "missing")
        path = "".join(f"[{part}]" if isinstance(part, int) else '[""]' if part == ""
                       else f".{part}" for part in loc)  # like the API's: specs[0].tags[1]
        problems.append(Problem(f"{where}{path}", item["msg"]))
    return problems


def in_body(body: Any, loc: Sequence[int | str], missing: bool) -> tuple[int | str, ...]:
    """The parts of a pydantic error location that are places in the body: what pydantic
    adds of its own (a union member's tag like `bool` or `list[float]`, a `[key]`) is left
    out; a missing field's name is kept."""
    kept: list[int | str] = []
    node = body
    for position, part in enumerate(loc):
        in_dict = isinstance(node, dict) and isinstance(part, str) and part in node
        in_list = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if in_dict or in_list:
            node = node[part]
        elif not (missing and position == len(loc) - 1):
            continue  # not in the body: pydantic's own
        kept.append(part)
    return tuple(kept)

"""The catalog's YAML documents as pydantic models (shared by files and JSON definitions)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from harness.catalog.model import parse_cadence
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


class SettingsDoc(_Doc):
    default_branch: str = "main"
    dimensions: dict[str, DimensionDoc] = {}
    requirements: dict[str, RequirementDoc] = {}


class MetricDoc(_Doc):
    description: str = ""
    display_name: str = ""
    unit: str
    better: Literal["lower", "higher"] | None = None
    dimensions: list[str] = []
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

"""``[sweep]``: a mission's Monte-Carlo campaign block (``omc sweep``), validated like the rest of the file.

The keys (README "Campaigns" has the user's view; ``engine.sweep`` runs them)::

    [sweep]
    runs = 40                      # default run count (omc sweep --runs N overrides it)
    seed = 7                       # campaign seed (default: [mission] seed)
    step = "60s"                   # engine step for every run (default: the mission step)
    until = "6h"                   # how long each run lasts (default: the mission duration)
    metrics = ["report.jobs.completed", "fleet.gpus_failed", "job('TRAIN').progress"]
    failures = { missed = "job('TRAIN').state != 'COMPLETED'",
                 low_battery = { metric = "report.fleet.min_soc", op = "<", target = 0.3 } }

    [sweep.grid]                   # dotted path into the mission document -> values
    "fault[0].rate_per_year" = [200, 2000]

    [sweep.random]                 # dotted path -> distribution, drawn per run
    "workload.generator[0].rate_per_hour" = { dist = "uniform", low = 30, high = 120 }

This module checks what can be checked from the block alone (types, distributions, path and metric
syntax); whether an override path and its values make a valid mission, and whether metric ids exist, is
checked against the mission by :func:`engine.sweep.sweep_issues` when the file loads.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal, Optional, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from engine.durations import parse_duration

Duration = Annotated[float, BeforeValidator(parse_duration)]

_SEGMENT = r"[A-Za-z0-9_-]+(?:\[\d+\])*"
PATH_PATTERN = re.compile(rf"^{_SEGMENT}(?:\.{_SEGMENT})*$")
"""An override path or report path: dotted keys, each optionally indexed: ``fault[0].rate_per_year``."""

_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RandomDraw(_Strict):
    """One ``[sweep.random]`` entry: a value drawn per run from the run's own random stream.

    ``uniform`` and ``loguniform`` draw a float in [low, high); ``integers`` an integer in [low, high]
    (both ends included); ``normal`` a float of ``mean`` and ``std``; ``choice`` one of ``values``.
    """

    dist: Literal["uniform", "loguniform", "normal", "integers", "choice"]
    low: Optional[float] = None
    high: Optional[float] = None
    mean: Optional[float] = None
    std: Optional[Annotated[float, Field(gt=0)]] = None
    values: Optional[Annotated[list[Any], Field(min_length=1)]] = None

    @model_validator(mode="after")
    def _parameters_fit_the_distribution(self) -> "RandomDraw":
        wanted = {"uniform": ("low", "high"), "loguniform": ("low", "high"), "integers": ("low", "high"),
                  "normal": ("mean", "std"), "choice": ("values",)}[self.dist]
        given = [name for name in ("low", "high", "mean", "std", "values") if getattr(self, name) is not None]
        missing = [name for name in wanted if name not in given]
        extra = [name for name in given if name not in wanted]
        if missing or extra:
            raise ValueError(f"dist {self.dist!r} takes {' and '.join(wanted)}"
                             + (f"; missing {', '.join(missing)}" if missing else "")
                             + (f"; {', '.join(extra)} does not apply" if extra else ""))
        if self.dist in ("uniform", "loguniform", "integers") and not self.low < self.high:
            if not (self.dist == "integers" and self.low == self.high):
                raise ValueError(f"low ({self.low:g}) must be below high ({self.high:g})")
        if self.dist == "loguniform" and not self.low > 0:
            raise ValueError("loguniform needs low > 0")
        if self.dist == "integers" and not (float(self.low).is_integer() and float(self.high).is_integer()):
            raise ValueError("integers needs whole-number low and high")
        return self


class FailureThreshold(_Strict):
    """A failure judged on one metric at the run's end: ``metric op target`` (a missing value is not a
    failure, as in the condition language)."""

    metric: Annotated[str, Field(min_length=1)]
    op: Literal["<", "<=", ">", ">=", "==", "!="]
    target: Union[bool, float, str]

    @model_validator(mode="after")
    def _ordering_needs_a_number(self) -> "FailureThreshold":
        if self.op in ("<", "<=", ">", ">=") and isinstance(self.target, (bool, str)):
            raise ValueError(f"{self.op!r} compares numbers; a {type(self.target).__name__} target needs == or !=")
        return self


class Sweep(_Strict):
    """``[sweep]``: run count, campaign seed, per-run step and length, parameter overrides, metrics and
    failure conditions of a Monte-Carlo campaign."""

    runs: Optional[Annotated[int, Field(ge=1, le=10_000_000)]] = None
    seed: Optional[Annotated[int, Field(ge=0, lt=2**63)]] = None
    step: Optional[Duration] = None
    until: Optional[Duration] = None
    grid: dict[str, Annotated[list[Any], Field(min_length=1)]] = {}
    random: dict[str, RandomDraw] = {}
    metrics: list[Annotated[str, Field(min_length=1)]] = []
    failures: dict[str, Union[Annotated[str, Field(min_length=1)], FailureThreshold]] = {}

    @field_validator("step")
    @classmethod
    def _step_in_range(cls, value: Optional[float]) -> Optional[float]:
        if value is not None and not 0.1 <= value <= 600.0:
            raise ValueError("must be between 0.1s and 10m")
        return value

    @field_validator("until")
    @classmethod
    def _until_positive(cls, value: Optional[float]) -> Optional[float]:
        if value is not None and value <= 0:
            raise ValueError("must be longer than zero")
        return value

    @field_validator("metrics")
    @classmethod
    def _metrics_unique(cls, value: list[str]) -> list[str]:
        duplicates = sorted({m for m in value if value.count(m) > 1})
        if duplicates:
            raise ValueError(f"metrics must be unique: {', '.join(duplicates)}")
        return value

    @field_validator("failures")
    @classmethod
    def _failure_names(cls, value: dict) -> dict:
        bad = [name for name in value if not _NAME.match(name)]
        if bad:
            raise ValueError(f"failure name {bad[0]!r} must start with a letter and use letters, digits, '_' and '-'")
        return value

"""Campaign files: what varies between the missions of a campaign, and the runs it expands to.

A campaign TOML has four tables::

    [campaign]      name, seed (of the draws and the runs' seeds), runs (replicates per grid
                    point), days (optional, every mission), base (optional mission TOML file)
    [base]          any key of a `lupex mission` configuration, on top of the base file
    [grid]          dotted parameter -> list of values; every combination is a grid point
    [distributions] dotted parameter -> {kind = "uniform" | "normal" | "integers" | "choice", ...}

The runs are every grid point times every replicate, replicate-major (all grid points of
replicate 0, then of replicate 1, ...), so raising ``runs`` appends runs and keeps the earlier
ones. Replicate ``r`` draws its distribution values from ``numpy.random.default_rng([seed, r])``
and, unless the grid or the distributions set ``seed``, simulates with seed ``seed + r``: the
grid points of one replicate share their draws and their seed (common random numbers, so a
difference between grid points is the parameters' and not the luck of the draw). Unless the
campaign sets ``site_seed`` or ``dem``, every run is on the one synthetic site of the base's
``seed``, so only the hidden truth and the measurements change with the run's seed.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from lupex.config import build, load_toml
from lupex.errors import LupexError
from lupex.limits import MAX_CAMPAIGN_RUNS, check_count
from lupex.mission import MissionConfig

__all__ = ["Campaign", "CampaignSpec", "Run", "digest", "draw", "load_campaign"]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class Uniform(_Strict):
    """Uniform on [low, high)."""

    kind: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if not self.low < self.high:
            raise ValueError("low must be below high")
        return self


class Normal(_Strict):
    """Normal with mean and standard deviation ``std``."""

    kind: Literal["normal"]
    mean: float
    std: float = Field(ge=0.0)


class Integers(_Strict):
    """Integers from low to high, both included."""

    kind: Literal["integers"]
    low: int
    high: int

    @model_validator(mode="after")
    def _ordered(self) -> Integers:
        if not self.low <= self.high:
            raise ValueError("low must not exceed high")
        return self


class Choice(_Strict):
    """One of ``values``, each as likely."""

    kind: Literal["choice"]
    values: list[Any] = Field(min_length=1)


Distribution = Annotated[Uniform | Normal | Integers | Choice, Field(discriminator="kind")]


class CampaignSettings(_Strict):
    """The ``[campaign]`` table."""

    name: str = Field(min_length=1, description="Label of the campaign.")
    seed: int = Field(0, ge=0, description="Seed of the distributions' draws and of the runs' seeds.")
    runs: int = Field(1, ge=1, le=MAX_CAMPAIGN_RUNS, description="Replicates per grid point [-]; the runs of the "
                      f"whole campaign, grid points times replicates, number at most {MAX_CAMPAIGN_RUNS:,} "
                      "(lupex.limits.MAX_CAMPAIGN_RUNS).")
    days: float | None = Field(None, gt=0.0, le=3650.0, description="Length of every mission [days]; the "
                               "base's (or the grid's) when absent.")
    base: Path | None = Field(None, description="Mission TOML file under [base] (relative to the campaign file).")


class CampaignSpec(_Strict):
    """A campaign file (validated, immutable)."""

    campaign: CampaignSettings
    base: dict[str, Any] = Field(default_factory=dict, description="Mission configuration keys.")
    grid: dict[str, Annotated[list[Any], Field(min_length=1)]] = Field(default_factory=dict)
    distributions: dict[str, Distribution] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _disjoint(self) -> CampaignSpec:
        both = sorted(set(self.grid) & set(self.distributions))
        if both:
            raise ValueError(f"{', '.join(both)} both in [grid] and [distributions]; vary each parameter once")
        return self


@dataclass(frozen=True)
class Run:
    """One mission of a campaign.

    Attributes
    ----------
    run_id : str
        ``rNNNN-HASH8``: the run's index and a digest of its parameters.
    replicate : int
        Its replicate [-].
    params : dict
        The varied parameters, dotted name -> value (the run's seed is ``config.seed``).
    config : MissionConfig
        The whole, validated mission configuration.
    """

    run_id: str
    replicate: int
    params: dict[str, Any]
    config: MissionConfig


@dataclass(frozen=True)
class Campaign:
    """A campaign expanded into its runs.

    Attributes
    ----------
    spec : CampaignSpec
        The file as validated.
    varied : list of str
        The varied parameters (grid, then distributions), columns of the run table.
    runs : list of Run
        Every run, in run-id order.
    fingerprint : str
        Digest of everything that defines the runs except their number, so a folder can tell a
        resumed or extended campaign from a different one.
    """

    spec: CampaignSpec
    varied: list[str]
    runs: list[Run]
    fingerprint: str


def digest(payload: Any) -> str:
    """SHA-256 hex digest of ``payload`` as canonical JSON."""
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def draw(distribution: Uniform | Normal | Integers | Choice, rng: np.random.Generator) -> Any:
    """One value of ``distribution`` from ``rng``, as a plain Python value."""
    if isinstance(distribution, Uniform):
        return float(rng.uniform(distribution.low, distribution.high))
    if isinstance(distribution, Normal):
        return float(rng.normal(distribution.mean, distribution.std))
    if isinstance(distribution, Integers):
        return int(rng.integers(distribution.low, distribution.high, endpoint=True))
    return distribution.values[int(rng.integers(len(distribution.values)))]


def _set(values: dict[str, Any], dotted: str, value: Any, source: Path) -> None:
    """Set ``values[a][b][c] = value`` for ``a.b.c``, making the tables on the way; a table merges
    into the table it replaces."""
    *tables, last = dotted.split(".")
    for name in tables:
        values = values.setdefault(name, {})
        if not isinstance(values, dict):
            raise LupexError(f"{source}: cannot set {dotted}: {name} is a value, not a table")
    if isinstance(value, dict) and isinstance(values.get(last), dict):
        for name, inner in value.items():
            _set(values[last], name, inner, source)
    else:
        values[last] = copy.deepcopy(value)


def _absolute_dem(values: dict[str, Any], folder: Path) -> None:
    """A relative ``dem`` path is relative to the campaign file's folder (a ``dem`` that is not a file
    name is left for the mission's validation to refuse)."""
    dem = values.get("dem")
    if isinstance(dem, str) and "\0" not in dem:
        values["dem"] = str((folder / dem).resolve())


def _base_values(spec: CampaignSpec, path: Path, varied: list[str]) -> dict[str, Any]:
    """The base mission keys: the base file, the [base] table over it, and the campaign's site seed."""
    values: dict[str, Any] = {}
    if spec.campaign.base is not None:
        values = load_toml(path.parent / spec.campaign.base)
    for name, value in spec.base.items():
        _set(values, name, value, path)
    if "site_seed" not in values and values.get("dem") is None and not {"site_seed", "dem"} & set(varied):
        values["site_seed"] = values.get("seed", MissionConfig.model_fields["seed"].default)
    return values


def load_campaign(path: str | Path, runs: int | None = None, days: float | None = None) -> Campaign:
    """Read, validate and expand a campaign file; every run's configuration is validated here.

    Parameters
    ----------
    path : path-like
        The campaign TOML.
    runs : int, optional
        Replicates per grid point, instead of the file's.
    days : float, optional
        Length of every mission [days], instead of the file's.

    Raises
    ------
    LupexError
        When the file, a parameter's name or a run's value is wrong, naming the problem.
    """
    path = Path(path)
    spec = build(CampaignSpec, load_toml(path), str(path))
    if runs is not None and runs < 1:
        raise LupexError(f"--runs must be at least 1, got {runs}")
    if days is not None and not 0 < days <= 3650:
        raise LupexError(f"--days must be in (0, 3650], got {days:g}")
    replicates = runs or spec.campaign.runs
    days = days or spec.campaign.days
    varied = [*spec.grid, *spec.distributions]
    grid_points = math.prod(len(values) for values in spec.grid.values())  # counted, not expanded
    check_count(grid_points * replicates, MAX_CAMPAIGN_RUNS,
                f"the runs of {path.name} ({grid_points:,} grid points x {replicates:,} replicates)",
                "vary fewer parameters in [grid], give them fewer values, or lower the runs per grid point")
    if days is not None and "days" in varied:
        raise LupexError(f"{path}: days is varied; it cannot also be set for every mission")
    base = _base_values(spec, path, varied)
    if days is not None:
        base["days"] = days
    _absolute_dem(base, path.parent)
    fingerprint = digest({"base": base, "grid": spec.grid, "seed": spec.campaign.seed,
                          "distributions": {k: v.model_dump() for k, v in spec.distributions.items()}})
    points = [dict(zip(spec.grid, combo, strict=True)) for combo in itertools.product(*spec.grid.values())]
    expanded = []
    for replicate in range(replicates):
        rng = np.random.default_rng([spec.campaign.seed, replicate])
        drawn = {name: draw(dist, rng) for name, dist in spec.distributions.items()}
        for point in points:
            params = {**point, **drawn}
            _absolute_dem(params, path.parent)
            values = copy.deepcopy(base)
            for name, value in {"seed": spec.campaign.seed + replicate, **params}.items():
                _set(values, name, value, path)
            identity = {"seed": values["seed"], **params}
            run_id = f"r{len(expanded):04d}-{digest(identity)[:8]}"
            config = build(MissionConfig, values, f"{path} (run {run_id}: {_describe(identity)})")
            expanded.append(Run(run_id, replicate, params, config))
    return Campaign(spec, varied, expanded, fingerprint)


def _describe(params: dict[str, Any]) -> str:
    return ", ".join(f"{name}={value!r}" for name, value in params.items())

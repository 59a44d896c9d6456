"""What the simulated rover records: one telemetry row per tick and a log of events.

Rows are appended as plain Python values and turned into a pandas DataFrame at the end (the
column types are fixed here, so the Parquet file has the same schema every run). Data produced
on board waits in a buffer and counts as downlinked only while the Earth is in view
(:meth:`Telemetry.downlink`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["EVENT_COLUMNS", "TELEMETRY_COLUMNS", "DataBuffer", "Telemetry"]

TELEMETRY_COLUMNS = {
    "time": "datetime64[ns]",
    "x_m": "float64",
    "y_m": "float64",
    "activity": "string",
    "soc": "float64",
    "solar_w": "float64",
    "load_w": "float64",
    "sun_fraction": "float64",
    "earth_visible": "bool",
    "dark_h": "float64",
    "buffer_mb": "float64",
    "downlinked_mb": "float64",
    "odometry_error_m": "float64",
    "distance_m": "float64",
    "box_temp_c": "float64",
    "heater_w": "float64",
}
"""Columns of ``telemetry.parquet`` and their types: UTC time, true position [m], activity, state of
charge [-], array power and bus load [W], Sun fraction [-], Earth in view, hours since the last
Sun [h], data waiting and data sent so far [MB], position error of the rover's own estimate [m],
distance driven so far [m]."""

EVENT_COLUMNS = ("time", "kind", "x_m", "y_m", "detail")
"""Columns of ``events.csv``."""


@dataclass
class DataBuffer:
    """Data waiting for the Earth [MB] and data sent so far [MB]."""

    waiting_mb: float = 0.0
    sent_mb: float = 0.0

    def add(self, megabytes: float) -> None:
        """Queue ``megabytes`` [MB] of new data."""
        self.waiting_mb += megabytes

    def downlink(self, rate_kbit_s: float, seconds: float) -> float:
        """Send for ``seconds`` [s] at ``rate_kbit_s`` [kbit/s]; returns the megabytes sent [MB]."""
        sent = min(self.waiting_mb, rate_kbit_s * seconds / 8000.0)
        self.waiting_mb -= sent
        self.sent_mb += sent
        return sent


@dataclass
class Telemetry:
    """The telemetry rows and the event log of one run."""

    rows: dict[str, list] = field(default_factory=lambda: {name: [] for name in TELEMETRY_COLUMNS})
    events: list[tuple] = field(default_factory=list)

    def record(self, **values) -> None:
        """Append one row; every column of :data:`TELEMETRY_COLUMNS` must be given."""
        for name in TELEMETRY_COLUMNS:
            self.rows[name].append(values[name])

    def event(self, time: np.datetime64, kind: str, x: float, y: float, detail: str = "") -> None:
        """Log an event (kind: landing, drive, replan, hazard, drill, survey, lost, end ...)."""
        self.events.append((time, kind, round(float(x), 2), round(float(y), 2), detail))

    def frame(self) -> pd.DataFrame:
        """The rows as a DataFrame with the types of :data:`TELEMETRY_COLUMNS`."""
        return pd.DataFrame({name: pd.Series(values, dtype=TELEMETRY_COLUMNS[name])
                             for name, values in self.rows.items()})

    def event_frame(self) -> pd.DataFrame:
        """The events as a DataFrame with the columns of :data:`EVENT_COLUMNS`."""
        frame = pd.DataFrame(self.events, columns=list(EVENT_COLUMNS))
        frame["time"] = pd.to_datetime(frame["time"])
        return frame

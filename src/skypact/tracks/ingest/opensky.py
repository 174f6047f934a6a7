"""OpenSky Network state vectors (SI units) to the traffic convention.

Two layouts:

- the **history** table (Impala ``state_vectors_data4``, as CSV, Parquet or JSON):
  ``time`` (epoch s), ``icao24``, ``lat``, ``lon``, ``velocity`` (m/s), ``heading``
  (deg), ``vertrate`` (m/s), ``callsign``, ``onground``, ``alert``, ``spi``,
  ``squawk``, ``baroaltitude`` (m), ``geoaltitude`` (m), ``lastposupdate``,
  ``lastcontact``, ``hour``;
- the **live REST** answer ``{"time": ..., "states": [[icao24, callsign,
  origin_country, time_position, last_contact, longitude, latitude, baro_altitude,
  on_ground, velocity, true_track, vertical_rate, sensors, geo_altitude, squawk, spi,
  position_source, ...], ...]}``.

A state vector repeats its last position until a new one arrives; ``lastposupdate``
(or ``time_position``) says when it was measured. The report's time is that of the
position when it is known, else the vector's time, so the track store does not take a
repeated position for a new one. OpenSky's ``heading`` is the true track over ground.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from skypact.errors import ParseError, UnsupportedFormatError
from skypact.tracks.ingest.base import Decoded, Problems, report_table
from skypact.units import m_to_ft, mps_to_fpm, mps_to_kt

__all__ = ["HISTORY_COLUMNS", "from_history", "is_history", "read_states_json"]

HISTORY_COLUMNS = ("time", "icao24", "lat", "lon")

_REST_FIELDS = (
    "icao24", "callsign", "origin_country", "time_position", "last_contact",
    "longitude", "latitude", "baro_altitude", "on_ground", "velocity", "true_track",
    "vertical_rate", "sensors", "geo_altitude", "squawk", "spi", "position_source",
)  # fmt: skip


def is_history(table: pd.DataFrame) -> bool:
    """Whether a table has OpenSky's history columns (not the traffic convention)."""
    return set(HISTORY_COLUMNS) <= set(table.columns) and "latitude" not in table


def _numbers(table: pd.DataFrame, name: str) -> np.ndarray:
    if name not in table.columns:
        return np.full(len(table), np.nan)
    return pd.to_numeric(table[name], errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan
    )


def from_history(table: pd.DataFrame, *, source: str = "opensky") -> pd.DataFrame:
    """A history table in the traffic convention (aviation units, ``source``)."""
    position_time = _numbers(table, "lastposupdate")
    when = np.where(np.isnan(position_time), _numbers(table, "time"), position_time)
    text = {
        name: table[name].astype("string").str.strip().astype(object).to_numpy()
        if name in table.columns
        else np.full(len(table), None, dtype=object)
        for name in ("icao24", "callsign", "squawk")
    }
    onground = (
        table["onground"].astype("boolean").to_numpy()
        if "onground" in table.columns
        else np.full(len(table), None, dtype=object)
    )
    rows = pd.DataFrame(
        {
            "timestamp": when,
            "icao24": pd.Series(text["icao24"]).str.lower().to_numpy(object),
            "callsign": text["callsign"],
            "latitude": _numbers(table, "lat"),
            "longitude": _numbers(table, "lon"),
            "altitude": m_to_ft(_numbers(table, "baroaltitude")),
            "geoaltitude": m_to_ft(_numbers(table, "geoaltitude")),
            "groundspeed": mps_to_kt(_numbers(table, "velocity")),
            "track": _numbers(table, "heading"),
            "vertical_rate": mps_to_fpm(_numbers(table, "vertrate")),
            "squawk": text["squawk"],
            "onground": onground,
        }
    )
    return report_table(rows, source=source)


def read_states_json(path: str | Path, *, strict: bool = False) -> Decoded:
    """The live REST answer (``{"time", "states"}``) as reports.

    A state that is not a list of at least 17 fields is counted, never dropped
    silently (``strict``: refused).
    """
    path = Path(path)
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ParseError(f"cannot parse: {exc}", source=str(path)) from None
    if not isinstance(document, dict) or not isinstance(document.get("states"), list):
        raise UnsupportedFormatError(
            "not an OpenSky states answer (no 'states' list)", source=str(path)
        )
    problems = Problems(str(path))
    records = []
    for k, state in enumerate(document["states"]):
        if not isinstance(state, list) or len(state) < len(_REST_FIELDS):
            problems.reject(
                f"a state is not a list of {len(_REST_FIELDS)} fields",
                f"state {k}",
                json.dumps(state)[:200],
                strict=strict,
            )
            continue
        fields = dict(zip(_REST_FIELDS, state, strict=False))
        records.append(
            {
                "time": document.get("time"),
                "lastposupdate": fields["time_position"],
                "icao24": fields["icao24"],
                "callsign": fields["callsign"],
                "lat": fields["latitude"],
                "lon": fields["longitude"],
                "baroaltitude": fields["baro_altitude"],
                "geoaltitude": fields["geo_altitude"],
                "velocity": fields["velocity"],
                "heading": fields["true_track"],
                "vertrate": fields["vertical_rate"],
                "squawk": fields["squawk"],
                "onground": fields["on_ground"],
            }
        )
    table = pd.DataFrame(records, columns=list(records[0]) if records else None)
    if not records:
        table = pd.DataFrame(columns=[*HISTORY_COLUMNS])
    return Decoded("opensky-states", from_history(table), problems)

"""The track store: one track per (party, aircraft), whatever the sources.

Reports arrive as tables in the traffic convention (one row per decoded message or
report, with a ``source`` column naming the adapter: ``modes``, ``sbs``,
``asterix-cat048``, ``cot``, ``table``, ...). :meth:`TrackStore.ingest` validates them
(:mod:`skypact.tracks.validation`, with each stream's history carried between
batches), then folds the accepted rows into the tracks:

- **One track per (party, icao24).** ADS-B and radar reports of the same aircraft
  from the same party merge into one track, never two; tracks of different parties
  never merge. Each field group -- position, barometric altitude, geometric altitude,
  velocity, identity (callsign, squawk), quality -- takes the newest report that
  carries it, from whichever source; the track records the source of its position
  and of its velocity, and every source that has contributed (``sources``).
- **Velocities estimated where a source lacks them.** Radar plots carry no velocity:
  when a track has no measured velocity as fresh as its position (within the
  position source's coast time), ground speed and track come from its last two
  positions (geodesic distance and azimuth over their time difference, at least
  :attr:`TrackStore.min_estimate_dt_s` apart), and vertical rate from its last two
  altitudes; ``velocity_estimated`` says so.
- **Coasting and dropping.** A track whose last position is older than its position
  source's coast time is ``coasting`` (predicted along its velocity in
  :meth:`TrackStore.snapshot`); older than the drop time it is ``dropped`` and
  :meth:`TrackStore.expire` removes it. Times per source are in :data:`TIMEOUTS`.
- **Quality** carried along: ``nacp``, ``nic``, ``nuc_p``, ``nac_v``, ``ce_m``,
  ``le_m`` (the newest report that has them), and ``age_s`` in :meth:`tracks`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd
from pyproj import Geod

from skypact.tracks.model import StateArrays
from skypact.tracks.validation import (
    StreamHistory,
    ValidationLimits,
    Verdicts,
    epoch_seconds,
    validate_reports,
)
from skypact.units import (
    FloatArray,
    fpm_to_mps,
    ft_to_m,
    kt_to_mps,
    mps_to_fpm,
    mps_to_kt,
)

__all__ = ["TIMEOUTS", "IngestOutcome", "Timeout", "TrackStore"]

_WGS84 = Geod(ellps="WGS84")


@dataclass(frozen=True, slots=True)
class Timeout:
    """How long a source's position stays live, then coasts, before the track drops."""

    coast_after_s: float
    drop_after_s: float


# ADS-B and Mode S squit positions at 2 Hz; a radar scans every 4-12 s; a system track
# (CAT062) updates every 1-5 s; recordings in tables are sampled at 1-30 s; CoT events
# carry their own stale time, commonly 20-60 s ahead.
TIMEOUTS: dict[str, Timeout] = {
    "modes": Timeout(10.0, 60.0),
    "sbs": Timeout(10.0, 60.0),
    "asterix-cat021": Timeout(10.0, 60.0),
    "asterix-cat048": Timeout(15.0, 60.0),
    "asterix-cat062": Timeout(10.0, 60.0),
    "cot": Timeout(30.0, 120.0),
    "tak": Timeout(30.0, 120.0),
    "opensky": Timeout(15.0, 120.0),
    "table": Timeout(30.0, 120.0),
}
_DEFAULT_TIMEOUT = Timeout(30.0, 120.0)

_GROUPS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # group -> (columns that must all be present, columns taken)
    "pos": (("latitude", "longitude"), ("latitude", "longitude", "source")),
    "alt": (("altitude",), ("altitude",)),
    "geo": (("geoaltitude",), ("geoaltitude",)),
    "vel": (("groundspeed", "track"), ("groundspeed", "track", "source")),
    "vs": (("vertical_rate",), ("vertical_rate",)),
    "callsign": (("callsign",), ("callsign",)),
    "squawk": (("squawk",), ("squawk",)),
    "onground": (("onground",), ("onground",)),
}
_QUALITY = ("nacp", "nic", "nuc_p", "nac_v", "ce_m", "le_m")

_TRACK_COLUMNS = (
    "party", "icao24", "callsign", "squawk", "onground", "t_s",
    "pos_t_s", "latitude", "longitude", "position_source",
    "prev_pos_t_s", "prev_latitude", "prev_longitude",
    "alt_t_s", "altitude", "prev_alt_t_s", "prev_altitude",
    "geo_t_s", "geoaltitude",
    "vel_t_s", "groundspeed", "track", "velocity_source",
    "vs_t_s", "vertical_rate",
    "callsign_t_s", "squawk_t_s", "onground_t_s",
    *_QUALITY, "sources",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    """What one :meth:`TrackStore.ingest` did with its rows."""

    rows: int
    accepted: int
    verdicts: Verdicts

    @property
    def rejected(self) -> dict[str, int]:
        return self.verdicts.counts()


@dataclass
class TrackStore:
    """Tracks keyed by (party, icao24); see the module docstring."""

    limits: ValidationLimits = field(default_factory=ValidationLimits)
    timeouts: dict[str, Timeout] = field(default_factory=lambda: dict(TIMEOUTS))
    min_estimate_dt_s: float = 1.0
    _history: StreamHistory = field(default_factory=StreamHistory.empty)
    _tracks: pd.DataFrame = field(
        default_factory=lambda: pd.DataFrame(
            {name: pd.Series(dtype=object) for name in _TRACK_COLUMNS}
        ).set_index(["party", "icao24"], drop=False)
    )

    def __len__(self) -> int:
        return len(self._tracks)

    def ingest(
        self,
        table: pd.DataFrame,
        *,
        party: str | None = None,
        in_given_order: bool = False,
    ) -> IngestOutcome:
        """Validate a report table and fold its accepted rows into the tracks.

        Args:
            table: reports in the traffic convention with a ``source`` column (a
                missing one counts as ``"table"``).
            party: the reporting party, for a table without a ``party`` column.
            in_given_order: validate each stream in the rows' order rather than by
                time (see :func:`validate_reports`).
        """
        reports = table
        if "party" not in reports.columns or "source" not in reports.columns:
            reports = reports.copy(deep=False)
            if "party" not in reports.columns:
                reports["party"] = party if party is not None else ""
            if "source" not in reports.columns:
                reports["source"] = "table"
        verdicts = validate_reports(
            reports, self.limits, history=self._history, in_given_order=in_given_order
        )
        accepted = reports[verdicts.accepted]
        if len(accepted):
            self._fold(accepted)
        return IngestOutcome(len(reports), int(verdicts.accepted.sum()), verdicts)

    def _fold(self, reports: pd.DataFrame) -> None:
        t_s = epoch_seconds(reports)
        party = reports["party"].astype("string").fillna("").to_numpy(object)
        icao24 = reports["icao24"].astype("string").str.strip().to_numpy(object)
        codes, uniques = pd.factorize(pd.Series(party + "\x1f" + icao24))
        index = pd.MultiIndex.from_tuples(
            [tuple(str(k).split("\x1f", 1)) for k in uniques], names=["party", "icao24"]
        )
        order = np.argsort(t_s, kind="stable")
        update = pd.DataFrame(index=index)
        update["t_s"] = _per_group_max(codes, t_s, len(index))
        wanted = {c for _, cols in _GROUPS.values() for c in cols} | set(_QUALITY)
        present = {
            name: reports[name].notna().to_numpy(dtype=bool)
            for name in wanted
            if name in reports.columns
        }
        values = {
            name: reports[name].to_numpy(object if name in _TEXT else float)
            for name in present
        }
        for group, (needed, taken) in _GROUPS.items():
            if not all(name in present for name in needed):
                continue
            mask = np.logical_and.reduce([present[name] for name in needed])
            rows = order[mask[order]]
            last_group, last_row = _last_per_group(codes, rows)
            if not len(last_group):
                continue
            update[f"{group}_t_s"] = _scatter(last_group, t_s[last_row], len(index))
            for name in taken:
                update[_target_name(group, name)] = _scatter(
                    last_group, values[name][last_row], len(index)
                )
            if group in ("pos", "alt"):
                keep = np.ones(len(reports), dtype=bool)
                keep[last_row] = False
                prev_group, prev_row = _last_per_group(codes, rows[keep[rows]])
                update[f"prev_{group}_t_s"] = _scatter(
                    prev_group, t_s[prev_row], len(index)
                )
                for name in needed:
                    update[f"prev_{name}"] = _scatter(
                        prev_group, values[name][prev_row], len(index)
                    )
        for name in _QUALITY:
            if name in present:
                rows = order[present[name][order]]
                last_group, last_row = _last_per_group(codes, rows)
                update[name] = _scatter(last_group, values[name][last_row], len(index))
        if "squawk" in update.columns:  # normalised on the few rows kept
            update["squawk"] = np.asarray(
                [_squawk_text(v) for v in update["squawk"]], dtype=object
            )
        source = reports["source"].astype("string").fillna("").to_numpy(object)
        pairs = pd.DataFrame({"k": codes, "s": source}).drop_duplicates()
        sources: dict[tuple[str, str], set[str]] = {}
        keys = index.to_list()
        for k, name in zip(pairs["k"].tolist(), pairs["s"].tolist(), strict=True):
            sources.setdefault(keys[k], set()).add(str(name))
        self._merge(update, sources)

    def _merge(
        self, update: pd.DataFrame, sources: dict[tuple[str, str], set[str]]
    ) -> None:
        tracks = self._tracks
        new_keys = update.index.difference(tracks.index)
        if len(new_keys):
            empty = pd.DataFrame(index=new_keys, columns=tracks.columns, dtype=object)
            empty["party"] = [k[0] for k in new_keys]
            empty["icao24"] = [k[1] for k in new_keys]
            tracks = pd.concat([tracks, empty]) if len(tracks) else empty
        current = tracks.loc[update.index]
        for group in (
            "pos",
            "alt",
            "geo",
            "vel",
            "vs",
            "callsign",
            "squawk",
            "onground",
        ):
            stamp = f"{group}_t_s"
            if stamp not in update.columns:
                continue
            old_t = pd.to_numeric(current[stamp], errors="coerce").to_numpy(float)
            new_t = update[stamp].to_numpy(float)
            newer = ~np.isnan(new_t) & ~(new_t < old_t)
            if not newer.any():
                continue
            rows = update.index[newer]
            names = [stamp] + [_target_name(group, name) for name in _GROUPS[group][1]]
            if group in ("pos", "alt"):
                # the stored latest becomes the previous one unless the batch has two
                prev_cols = [f"prev_{group}_t_s"] + [
                    f"prev_{name}" for name in _GROUPS[group][0]
                ]
                batch_prev = update.loc[rows, prev_cols]
                stored = current.loc[rows, [stamp, *_GROUPS[group][0]]]
                stored.columns = prev_cols
                chosen = batch_prev.where(batch_prev[prev_cols[0]].notna(), stored)
                tracks.loc[rows, prev_cols] = chosen.to_numpy(object)
            tracks.loc[rows, names] = update.loc[rows, names].to_numpy(object)
        for name in _QUALITY:
            if name in update.columns:
                values = update[name].dropna()
                tracks.loc[values.index, name] = values.to_numpy(object)
        old_t = pd.to_numeric(tracks.loc[update.index, "t_s"], errors="coerce")
        tracks.loc[update.index, "t_s"] = np.fmax(
            old_t.to_numpy(float), update["t_s"].to_numpy(float)
        )
        if sources:
            keys = pd.MultiIndex.from_tuples(list(sources), names=["party", "icao24"])
            before = tracks.loc[keys, "sources"].to_numpy(object)
            merged = []
            for known, seen in zip(before, sources.values(), strict=True):
                had = (
                    set(known.split(",")) if isinstance(known, str) and known else set()
                )
                merged.append(known if seen <= had else ",".join(sorted(had | seen)))
            tracks.loc[keys, "sources"] = np.asarray(merged, dtype=object)
        self._tracks = tracks

    def tracks(self, now_s: float) -> pd.DataFrame:
        """Every track at ``now_s``: status, age, estimated velocities, provenance.

        Columns: ``party``, ``icao24``, ``callsign``, ``squawk``, ``onground``,
        ``status`` (``live``, ``coasting``, ``dropped`` or ``no position``),
        ``age_s`` (since the last position), ``latitude``, ``longitude``,
        ``altitude`` (ft), ``geoaltitude`` (ft), ``groundspeed`` (kt), ``track``
        (deg), ``vertical_rate`` (ft/min), ``velocity_estimated``,
        ``position_source``, ``velocity_source``, ``sources``, ``last_update_s``
        (epoch s of the position) and the quality columns.
        """
        t = self._tracks
        n = len(t)

        def num(name: str) -> FloatArray:
            return pd.to_numeric(t[name], errors="coerce").to_numpy(
                dtype=float, na_value=np.nan
            )

        pos_t = num("pos_t_s")
        coast, drop = self._timeouts(t["position_source"])
        age = now_s - pos_t
        status = np.where(
            np.isnan(pos_t),
            "no position",
            np.where(
                age <= coast, "live", np.where(age <= drop, "coasting", "dropped")
            ),
        )
        gs, trk, vs = num("groundspeed"), num("track"), num("vertical_rate")
        vel_t, vs_t = num("vel_t_s"), num("vs_t_s")
        stale_vel = np.isnan(vel_t) | (pos_t - vel_t > coast)
        est_gs, est_trk = self._estimated_velocity(num)
        use = stale_vel & ~np.isnan(est_gs)
        gs = np.where(use, est_gs, gs)
        trk = np.where(use, est_trk, trk)
        stale_vs = np.isnan(vs_t) | (pos_t - vs_t > coast)
        est_vs = self._estimated_vertical_rate(num)
        vs_use = stale_vs & ~np.isnan(est_vs)
        vs = np.where(vs_use, est_vs, vs)
        out = pd.DataFrame(
            {
                "party": t["party"].to_numpy(object),
                "icao24": t["icao24"].to_numpy(object),
                "callsign": t["callsign"].to_numpy(object),
                "squawk": t["squawk"].to_numpy(object),
                "onground": t["onground"].astype("boolean").to_numpy(),
                "status": status if n else np.empty(0, dtype=object),
                "age_s": age,
                "latitude": num("latitude"),
                "longitude": num("longitude"),
                "altitude": num("altitude"),
                "geoaltitude": num("geoaltitude"),
                "groundspeed": gs,
                "track": trk,
                "vertical_rate": vs,
                "velocity_estimated": use,
                "position_source": t["position_source"].to_numpy(object),
                "velocity_source": np.where(
                    use, "estimated", t["velocity_source"].to_numpy(object)
                ),
                "sources": t["sources"].to_numpy(object),
                "last_update_s": pos_t,
                **{name: num(name) for name in _QUALITY},
            }
        )
        return out.sort_values(["party", "icao24"], ignore_index=True)

    def snapshot(self, now_s: float) -> StateArrays:
        """Live and coasting tracks with a complete state, predicted to ``now_s``.

        A track needs a position, a barometric altitude and a velocity (measured or
        estimated); vertical rate defaults to 0 when neither is known.
        """
        table = self.tracks(now_s)
        usable = table["status"].isin(["live", "coasting"]) & table[
            ["latitude", "longitude", "altitude", "groundspeed", "track"]
        ].notna().all(axis=1)
        table = table[usable]
        dt_s = np.maximum(now_s - table["last_update_s"].to_numpy(float), 0.0)
        gs_mps = kt_to_mps(table["groundspeed"].to_numpy(float))
        trk = table["track"].to_numpy(float) % 360.0
        vs_mps = fpm_to_mps(np.nan_to_num(table["vertical_rate"].to_numpy(float)))
        lat, lon = table["latitude"].to_numpy(float), table["longitude"].to_numpy(float)
        if len(table):
            lon, lat, _ = _WGS84.fwd(lon, lat, trk, gs_mps * dt_s)
        return StateArrays(
            aircraft_id=table["icao24"].to_numpy(object),
            t_s=np.full(len(table), float(now_s)),
            lat_deg=np.asarray(lat, dtype=np.float64),
            lon_deg=np.asarray(lon, dtype=np.float64),
            alt_m=ft_to_m(table["altitude"].to_numpy(float)) + vs_mps * dt_s,
            gs_mps=gs_mps,
            trk_deg=trk,
            vs_mps=vs_mps,
            party=table["party"].to_numpy(object),
        )

    def expire(self, now_s: float) -> list[tuple[str, str]]:
        """Remove the dropped tracks; returns their (party, icao24) keys."""
        table = self.tracks(now_s)
        dropped = table[table["status"] == "dropped"]
        gone = [
            (str(party_id), str(icao24))
            for party_id, icao24 in zip(
                dropped["party"], dropped["icao24"], strict=True
            )
        ]
        if gone:
            self._tracks = self._tracks.drop(index=gone)
            prefixes = {f"{party}\x1f{icao24}\x1f" for party, icao24 in gone}
            self._history.state = {
                k: v
                for k, v in self._history.state.items()
                if k[: k.rindex("\x1f") + 1] not in prefixes
            }
        return gone

    def _timeouts(self, source: pd.Series) -> tuple[FloatArray, FloatArray]:
        names = source.astype("string").fillna("").to_numpy(object)
        pick = [self.timeouts.get(name, _DEFAULT_TIMEOUT) for name in names]
        return (
            np.asarray([p.coast_after_s for p in pick], dtype=float),
            np.asarray([p.drop_after_s for p in pick], dtype=float),
        )

    def _estimated_velocity(
        self, num: Callable[[str], FloatArray]
    ) -> tuple[FloatArray, FloatArray]:
        dt = num("pos_t_s") - num("prev_pos_t_s")
        lat0, lon0 = num("prev_latitude"), num("prev_longitude")
        lat1, lon1 = num("latitude"), num("longitude")
        ok = (dt >= self.min_estimate_dt_s) & ~np.isnan(lat0 + lon0 + lat1 + lon1)
        gs = np.full(len(dt), np.nan)
        trk = np.full(len(dt), np.nan)
        if ok.any():
            azimuth, _, dist = _WGS84.inv(lon0[ok], lat0[ok], lon1[ok], lat1[ok])
            gs[ok] = mps_to_kt(np.asarray(dist) / dt[ok])
            trk[ok] = np.asarray(azimuth) % 360.0
        return gs, trk

    def _estimated_vertical_rate(self, num: Callable[[str], FloatArray]) -> FloatArray:
        dt = num("alt_t_s") - num("prev_alt_t_s")
        ok = dt >= self.min_estimate_dt_s
        rate = np.full(len(dt), np.nan)
        diff = num("altitude") - num("prev_altitude")
        rate[ok] = mps_to_fpm(ft_to_m(diff[ok]) / dt[ok])
        return rate


_TEXT = frozenset({"callsign", "squawk", "onground", "source"})


def _squawk_text(value: object) -> object:
    """A squawk as its 4 octal digits (a table read as numbers gives 671 for 0671)."""
    if isinstance(value, int | float | np.integer | np.floating):
        return f"{int(value):04d}" if np.isfinite(value) else None
    return value


def _per_group_max(codes: npt.NDArray[np.intp], t_s: FloatArray, n: int) -> FloatArray:
    out = np.full(n, -np.inf)
    np.maximum.at(out, codes, t_s)
    return out


def _last_per_group(
    codes: npt.NDArray[np.intp], rows: npt.NDArray[np.intp]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """For rows in time order: each group present, and its last row."""
    backwards = rows[::-1]
    groups, first = np.unique(codes[backwards], return_index=True)
    return groups, backwards[first]


def _scatter(groups: npt.NDArray[np.intp], values: np.ndarray, n: int) -> np.ndarray:
    out = np.full(n, None if values.dtype == object else np.nan, dtype=values.dtype)
    out[groups] = values
    return out


def _target_name(group: str, name: str) -> str:
    if name == "source":
        return "position_source" if group == "pos" else "velocity_source"
    return name

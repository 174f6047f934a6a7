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

Storage is a struct of arrays: one numpy array per track column (float64 for numbers
and epoch seconds, object for text), one row per track, grown geometrically, with a
dict from (party, icao24) to row. A batch is first reduced to one entry per aircraft
(the newest report of each field group, and the one before it for position and
altitude), then merged into the rows with numpy; :meth:`TrackStore.expire` compacts
the rows. Everything that does not depend on the time asked for -- the order by
(party, icao24), each track's timeouts, the estimated velocities and vertical rates
-- is computed once after each change of the store and shared by
:meth:`TrackStore.tracks`, :meth:`TrackStore.snapshot` and :meth:`TrackStore.expire`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd
from pyproj import Geod

from skypact.tracks.model import ObjectArray, StateArrays
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

_IntArray = npt.NDArray[np.intp]
_BoolArray = npt.NDArray[np.bool_]


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
_WITH_PREVIOUS = ("pos", "alt")  # groups that keep their previous value too
_QUALITY = ("nacp", "nic", "nuc_p", "nac_v", "ce_m", "le_m")
_TEXT = frozenset({"callsign", "squawk", "onground", "source"})
"""Report columns taken as they are (object); the others are taken as float64."""

_NUMBER_COLUMNS = (
    "t_s",
    "pos_t_s", "latitude", "longitude",
    "prev_pos_t_s", "prev_latitude", "prev_longitude",
    "alt_t_s", "altitude", "prev_alt_t_s", "prev_altitude",
    "geo_t_s", "geoaltitude",
    "vel_t_s", "groundspeed", "track",
    "vs_t_s", "vertical_rate",
    "callsign_t_s", "squawk_t_s", "onground_t_s",
    *_QUALITY,
)  # fmt: skip
"""The float64 columns of a track (NaN where unknown)."""
_TEXT_COLUMNS = (
    "party", "icao24", "callsign", "squawk", "onground",
    "position_source", "velocity_source", "sources",
)  # fmt: skip
"""The object columns of a track (NaN where unknown)."""

_STATUS = np.asarray(["live", "coasting", "dropped", "no position"])
_LIVE, _COASTING, _DROPPED, _NO_POSITION = range(4)


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    """What one :meth:`TrackStore.ingest` did with its rows."""

    rows: int
    accepted: int
    verdicts: Verdicts

    @property
    def rejected(self) -> dict[str, int]:
        return self.verdicts.counts()


@dataclass(frozen=True, slots=True)
class _Batch:
    """A report table reduced to one entry per aircraft, for :meth:`TrackStore._merge`.

    Attributes:
        keys: (K,) the aircraft, as (party, icao24).
        numbers: per track column, (K,) values of the batch (NaN where it has none):
            ``t_s`` (the newest report), ``<group>_t_s`` and the group's columns from
            the newest report that carries the group, ``prev_pos_t_s``,
            ``prev_latitude``, ... from the one before it, quality columns from the
            newest report that has them. A group no report carries is absent.
        texts: likewise for the object columns (None where the batch has none).
        seen: (K, S) whether source ``source_names[s]`` reported aircraft ``k``.
        source_names: (S,) the sources of the batch.
    """

    keys: list[tuple[str, str]]
    numbers: dict[str, FloatArray]
    texts: dict[str, ObjectArray]
    seen: _BoolArray
    source_names: list[str]


@dataclass(frozen=True, slots=True)
class _Picture:
    """What the tracks look like at any time, in (party, icao24) order.

    Attributes:
        rows: (N,) the storage row of each track.
        pos_t_s: (N,) epoch seconds of the last position (NaN: none).
        coast_s, drop_s: (N,) the position source's timeouts.
        groundspeed, track, vertical_rate: (N,) measured, or estimated where the
            measurement is stale (kt, deg, ft/min).
        velocity_estimated: (N,) whether ground speed and track are estimated.
    """

    rows: _IntArray
    pos_t_s: FloatArray
    coast_s: FloatArray
    drop_s: FloatArray
    groundspeed: FloatArray
    track: FloatArray
    vertical_rate: FloatArray
    velocity_estimated: _BoolArray

    def status(self, now_s: float) -> tuple[npt.NDArray[np.int8], FloatArray]:
        """Each track's status code (an index into ``_STATUS``) and age at ``now_s``."""
        age_s = now_s - self.pos_t_s
        code = np.full(len(age_s), _DROPPED, dtype=np.int8)
        code[age_s <= self.drop_s] = _COASTING
        code[age_s <= self.coast_s] = _LIVE
        code[np.isnan(self.pos_t_s)] = _NO_POSITION
        return code, age_s


@dataclass
class TrackStore:
    """Tracks keyed by (party, icao24); see the module docstring.

    Key methods: :meth:`ingest` (validate and fold a report table), :meth:`tracks`
    (every track as a table), :meth:`snapshot` (the usable tracks as
    :class:`StateArrays`, predicted), :meth:`expire` (remove the dropped tracks).
    """

    limits: ValidationLimits = field(default_factory=ValidationLimits)
    timeouts: dict[str, Timeout] = field(default_factory=lambda: dict(TIMEOUTS))
    min_estimate_dt_s: float = 1.0
    _history: StreamHistory = field(default_factory=StreamHistory.empty)
    _numbers: dict[str, FloatArray] = field(
        init=False,
        repr=False,
        compare=False,
        default_factory=lambda: {name: np.empty(0) for name in _NUMBER_COLUMNS},
    )
    _texts: dict[str, ObjectArray] = field(
        init=False,
        repr=False,
        compare=False,
        default_factory=lambda: {
            name: np.empty(0, dtype=object) for name in _TEXT_COLUMNS
        },
    )
    _size: int = field(init=False, repr=False, compare=False, default=0)
    _rows: dict[tuple[str, str], int] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )
    _version: int = field(init=False, repr=False, compare=False, default=0)
    """Bumped by every change of the tracks; keys the caches below."""
    _order: _IntArray | None = field(
        init=False, repr=False, compare=False, default=None
    )
    """The rows in (party, icao24) order; None after a track was added."""
    _picture_cache: tuple[object, _Picture] | None = field(
        init=False, repr=False, compare=False, default=None
    )
    _table_cache: tuple[_Picture, pd.DataFrame] | None = field(
        init=False, repr=False, compare=False, default=None
    )

    def __len__(self) -> int:
        return self._size

    def position_time_s(self, party: str, icao24: str) -> float | None:
        """Epoch seconds of a track's last position (None: no such track, or no
        position yet)."""
        row = self._rows.get((party, icao24))
        if row is None:
            return None
        t_s = float(self._numbers["pos_t_s"][row])
        return None if math.isnan(t_s) else t_s

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
        accepted_mask = verdicts.accepted
        accepted = int(accepted_mask.sum())
        if accepted:
            self._fold(reports if accepted == len(reports) else reports[accepted_mask])
        return IngestOutcome(len(reports), accepted, verdicts)

    def _fold(self, reports: pd.DataFrame) -> None:
        self._merge(_fold_batch(reports))

    def _merge(self, batch: _Batch) -> None:
        """Apply a folded batch: per field group, the newer of track and batch wins."""
        at = self._rows_of(batch.keys)
        numbers, texts = self._numbers, self._texts
        for group, (needed, taken) in _GROUPS.items():
            stamp = f"{group}_t_s"
            new_t = batch.numbers.get(stamp)
            if new_t is None:
                continue
            newer = ~np.isnan(new_t) & ~(new_t < numbers[stamp][at])
            if not newer.any():
                continue
            rows = at[newer]
            if group in _WITH_PREVIOUS:
                # the stored latest becomes the previous one unless the batch has two
                from_batch = ~np.isnan(batch.numbers[f"prev_{stamp}"][newer])
                for name in (stamp, *needed):
                    numbers[f"prev_{name}"][rows] = np.where(
                        from_batch,
                        batch.numbers[f"prev_{name}"][newer],
                        numbers[name][rows],
                    )
            numbers[stamp][rows] = new_t[newer]
            for name in taken:
                target = _target_name(group, name)
                if name in _TEXT:
                    texts[target][rows] = batch.texts[target][newer]
                else:
                    numbers[target][rows] = batch.numbers[target][newer]
        for name in _QUALITY:
            value = batch.numbers.get(name)
            if value is not None:
                given = ~np.isnan(value)
                numbers[name][at[given]] = value[given]
        numbers["t_s"][at] = np.fmax(numbers["t_s"][at], batch.numbers["t_s"])
        self._merge_sources(at, batch.seen, batch.source_names)
        self._version += 1

    def _rows_of(self, keys: list[tuple[str, str]]) -> _IntArray:
        """The row of each key, appending a row for each key not yet tracked."""
        known = self._rows.get
        at = np.fromiter(
            (known(key, -1) for key in keys), dtype=np.intp, count=len(keys)
        )
        new = np.flatnonzero(at < 0)
        if len(new):
            start, stop = self._size, self._size + len(new)
            self._reserve(stop)
            at[new] = np.arange(start, stop)
            fresh = [keys[k] for k in new.tolist()]
            self._texts["party"][start:stop] = [party for party, _ in fresh]
            self._texts["icao24"][start:stop] = [icao24 for _, icao24 in fresh]
            self._rows.update(zip(fresh, range(start, stop), strict=True))
            self._size = stop
            self._order = None
        return at

    def _reserve(self, size: int) -> None:
        """Make room for ``size`` rows (doubling), new rows unknown (NaN)."""
        capacity = len(self._numbers["t_s"])
        if size <= capacity:
            return
        capacity = max(size, 2 * capacity, 64)
        used = self._size
        for name, column in self._numbers.items():
            grown = np.full(capacity, np.nan)
            grown[:used] = column[:used]
            self._numbers[name] = grown
        for name, text in self._texts.items():
            grown_text = np.full(capacity, np.nan, dtype=object)
            grown_text[:used] = text[:used]
            self._texts[name] = grown_text

    def _merge_sources(
        self, at: _IntArray, seen: _BoolArray, source_names: list[str]
    ) -> None:
        """Add the batch's sources to each track's sorted comma-joined ``sources``.

        The tracks that had the same sources and saw the same ones get the same
        answer, so it is worked out once per such combination.
        """
        column = self._texts["sources"]
        before = column[at]
        before_code, _ = pd.factorize(before)  # unknown (a new track): -1
        _, first, inverse = np.unique(
            np.column_stack((before_code, seen)),
            axis=0,
            return_index=True,
            return_inverse=True,
        )
        merged = np.empty(len(first), dtype=object)
        for combination, row in enumerate(first.tolist()):
            known = before[row]
            had = set(known.split(",")) if isinstance(known, str) and known else set()
            now_seen = {source_names[s] for s in np.flatnonzero(seen[row]).tolist()}
            merged[combination] = (
                known if now_seen <= had else ",".join(sorted(had | now_seen))
            )
        column[at] = merged[inverse.reshape(-1)]

    def tracks(self, now_s: float) -> pd.DataFrame:
        """Every track at ``now_s``: status, age, estimated velocities, provenance.

        Columns: ``party``, ``icao24``, ``callsign``, ``squawk``, ``onground``,
        ``status`` (``live``, ``coasting``, ``dropped`` or ``no position``),
        ``age_s`` (since the last position), ``latitude``, ``longitude``,
        ``altitude`` (ft), ``geoaltitude`` (ft), ``groundspeed`` (kt), ``track``
        (deg), ``vertical_rate`` (ft/min), ``velocity_estimated``,
        ``position_source``, ``velocity_source``, ``sources``, ``last_update_s``
        (epoch s of the position) and the quality columns; one row per track,
        sorted by party then icao24.
        """
        picture = self._picture()
        code, age_s = picture.status(now_s)
        status = _STATUS[code] if len(code) else np.empty(0, dtype=object)
        out = self._table(picture).copy(deep=False)
        out.insert(5, "status", status)
        out.insert(6, "age_s", age_s)
        return out

    def snapshot(self, now_s: float) -> StateArrays:
        """Live and coasting tracks with a complete state, predicted to ``now_s``.

        A track needs a position, a barometric altitude and a velocity (measured or
        estimated); vertical rate defaults to 0 when neither is known. Tracks come in
        (party, icao24) order.
        """
        picture = self._picture()
        code, _ = picture.status(now_s)
        rows = picture.rows
        lat = self._numbers["latitude"][rows]
        lon = self._numbers["longitude"][rows]
        alt_ft = self._numbers["altitude"][rows]
        usable = (
            ((code == _LIVE) | (code == _COASTING))
            & ~np.isnan(lat)
            & ~np.isnan(lon)
            & ~np.isnan(alt_ft)
            & ~np.isnan(picture.groundspeed)
            & ~np.isnan(picture.track)
        )
        chosen = np.flatnonzero(usable)
        rows = rows[chosen]
        lat, lon, alt_ft = lat[chosen], lon[chosen], alt_ft[chosen]
        dt_s = np.maximum(now_s - picture.pos_t_s[chosen], 0.0)
        gs_mps = kt_to_mps(picture.groundspeed[chosen])
        trk = picture.track[chosen] % 360.0
        vs_mps = fpm_to_mps(np.nan_to_num(picture.vertical_rate[chosen]))
        if len(chosen):
            lon, lat, _ = _WGS84.fwd(lon, lat, trk, gs_mps * dt_s)
        return StateArrays(
            aircraft_id=self._texts["icao24"][rows],
            t_s=np.full(len(chosen), float(now_s)),
            lat_deg=np.asarray(lat, dtype=np.float64),
            lon_deg=np.asarray(lon, dtype=np.float64),
            alt_m=ft_to_m(alt_ft) + vs_mps * dt_s,
            gs_mps=gs_mps,
            trk_deg=trk,
            vs_mps=vs_mps,
            party=self._texts["party"][rows],
        )

    def expire(self, now_s: float) -> list[tuple[str, str]]:
        """Remove the dropped tracks; returns their (party, icao24) keys, sorted."""
        picture = self._picture()
        code, _ = picture.status(now_s)
        dropped = picture.rows[code == _DROPPED]
        if not len(dropped):
            return []
        gone = [
            (str(party_id), str(icao24))
            for party_id, icao24 in zip(
                self._texts["party"][dropped].tolist(),
                self._texts["icao24"][dropped].tolist(),
                strict=True,
            )
        ]
        self._remove(dropped, picture.rows)
        prefixes = {f"{party}\x1f{icao24}\x1f" for party, icao24 in gone}
        self._history.state = {
            k: v
            for k, v in self._history.state.items()
            if k[: k.rindex("\x1f") + 1] not in prefixes
        }
        return gone

    def _remove(self, dropped: _IntArray, order: _IntArray) -> None:
        """Compact the rows without ``dropped``; ``order`` is the current sort order."""
        used = self._size
        keep = np.ones(used, dtype=bool)
        keep[dropped] = False
        size = int(keep.sum())
        for column in self._numbers.values():
            column[:size] = column[:used][keep]
            column[size:used] = np.nan
        for text in self._texts.values():
            text[:size] = text[:used][keep]
            text[size:used] = np.nan
        self._size = size
        parties = self._texts["party"][:size].tolist()
        icao24s = self._texts["icao24"][:size].tolist()
        self._rows = {
            key: row for row, key in enumerate(zip(parties, icao24s, strict=True))
        }
        # the kept rows keep their relative order, in storage and sorted alike
        moved_to = np.cumsum(keep) - 1
        self._order = moved_to[order[keep[order]]]
        self._version += 1

    def _picture(self) -> _Picture:
        """The tracks' time-independent state, recomputed after each change."""
        key = (self._version, self.min_estimate_dt_s, tuple(self.timeouts.items()))
        if self._picture_cache is not None and self._picture_cache[0] == key:
            return self._picture_cache[1]
        if self._order is None:
            used = self._size
            self._order = np.lexsort(
                (self._texts["icao24"][:used], self._texts["party"][:used])
            ).astype(np.intp)
        rows = self._order
        numbers = self._numbers

        def num(name: str) -> FloatArray:
            return numbers[name][rows]

        pos_t = num("pos_t_s")
        coast, drop = self._timeouts(self._texts["position_source"][rows])
        gs, trk, vs = num("groundspeed"), num("track"), num("vertical_rate")
        stale_vel = np.isnan(num("vel_t_s")) | (pos_t - num("vel_t_s") > coast)
        est_gs, est_trk = self._estimated_velocity(num, stale_vel)
        use = stale_vel & ~np.isnan(est_gs)
        stale_vs = np.isnan(num("vs_t_s")) | (pos_t - num("vs_t_s") > coast)
        est_vs = self._estimated_vertical_rate(num, stale_vs)
        picture = _Picture(
            rows=rows,
            pos_t_s=pos_t,
            coast_s=coast,
            drop_s=drop,
            groundspeed=np.where(use, est_gs, gs),
            track=np.where(use, est_trk, trk),
            vertical_rate=np.where(stale_vs & ~np.isnan(est_vs), est_vs, vs),
            velocity_estimated=use,
        )
        self._picture_cache = (key, picture)
        return picture

    def _table(self, picture: _Picture) -> pd.DataFrame:
        """:meth:`tracks` without ``status`` and ``age_s`` (cached with the picture)."""
        if self._table_cache is not None and self._table_cache[0] is picture:
            return self._table_cache[1]
        rows = picture.rows

        def num(name: str) -> FloatArray:
            return self._numbers[name][rows]

        def text(name: str) -> ObjectArray:
            return self._texts[name][rows]

        table = pd.DataFrame(
            {
                "party": text("party"),
                "icao24": text("icao24"),
                "callsign": text("callsign"),
                "squawk": text("squawk"),
                "onground": pd.Series(text("onground"), dtype=object)
                .astype("boolean")
                .to_numpy(),
                "latitude": num("latitude"),
                "longitude": num("longitude"),
                "altitude": num("altitude"),
                "geoaltitude": num("geoaltitude"),
                "groundspeed": picture.groundspeed,
                "track": picture.track,
                "vertical_rate": picture.vertical_rate,
                "velocity_estimated": picture.velocity_estimated,
                "position_source": text("position_source"),
                "velocity_source": np.where(
                    picture.velocity_estimated, "estimated", text("velocity_source")
                ),
                "sources": text("sources"),
                "last_update_s": picture.pos_t_s,
                **{name: num(name) for name in _QUALITY},
            }
        )
        self._table_cache = (picture, table)
        return table

    def _timeouts(self, source: ObjectArray) -> tuple[FloatArray, FloatArray]:
        """Each track's timeouts, looked up once per distinct position source."""
        codes, uniques = pd.factorize(source, use_na_sentinel=False)
        names = pd.Series(uniques, dtype=object).astype("string").fillna("")
        pick = [self.timeouts.get(str(name), _DEFAULT_TIMEOUT) for name in names]
        coast = np.asarray([p.coast_after_s for p in pick], dtype=float)
        drop = np.asarray([p.drop_after_s for p in pick], dtype=float)
        return coast[codes], drop[codes]

    def _estimated_velocity(
        self, num: Callable[[str], FloatArray], wanted: _BoolArray
    ) -> tuple[FloatArray, FloatArray]:
        """Ground speed (kt) and track from the last two positions, where wanted."""
        dt = num("pos_t_s") - num("prev_pos_t_s")
        lat0, lon0 = num("prev_latitude"), num("prev_longitude")
        lat1, lon1 = num("latitude"), num("longitude")
        ok = (
            wanted
            & (dt >= self.min_estimate_dt_s)
            & ~np.isnan(lat0 + lon0 + lat1 + lon1)
        )
        gs = np.full(len(dt), np.nan)
        trk = np.full(len(dt), np.nan)
        if ok.any():
            azimuth, _, dist = _WGS84.inv(lon0[ok], lat0[ok], lon1[ok], lat1[ok])
            gs[ok] = mps_to_kt(np.asarray(dist) / dt[ok])
            trk[ok] = np.asarray(azimuth) % 360.0
        return gs, trk

    def _estimated_vertical_rate(
        self, num: Callable[[str], FloatArray], wanted: _BoolArray
    ) -> FloatArray:
        """Vertical rate (ft/min) from the last two altitudes, where wanted."""
        dt = num("alt_t_s") - num("prev_alt_t_s")
        ok = wanted & (dt >= self.min_estimate_dt_s)
        rate = np.full(len(dt), np.nan)
        diff = num("altitude") - num("prev_altitude")
        rate[ok] = mps_to_fpm(ft_to_m(diff[ok]) / dt[ok])
        return rate


def _fold_batch(reports: pd.DataFrame) -> _Batch:
    """Reduce accepted reports to one entry per (party, icao24); see :class:`_Batch`."""
    t_s = epoch_seconds(reports)
    party_code, party = pd.factorize(reports["party"].astype("string").fillna(""))
    icao24_code, icao24 = pd.factorize(reports["icao24"].astype("string").str.strip())
    codes, pairs = pd.factorize(party_code * len(icao24) + icao24_code)
    n = len(pairs)
    keys = list(
        zip(
            np.asarray(party, dtype=object)[pairs // len(icao24)].tolist(),
            np.asarray(icao24, dtype=object)[pairs % len(icao24)].tolist(),
            strict=True,
        )
    )
    order = np.argsort(t_s, kind="stable")
    numbers: dict[str, FloatArray] = {"t_s": _per_group_max(codes, t_s, n)}
    texts: dict[str, ObjectArray] = {}
    wanted = {c for _, cols in _GROUPS.values() for c in cols} | set(_QUALITY)
    present = {
        name: reports[name].notna().to_numpy(dtype=bool)
        for name in wanted
        if name in reports.columns
    }
    numbers_in = {
        name: reports[name].to_numpy(float) for name in present if name not in _TEXT
    }

    def texts_at(name: str, rows: _IntArray) -> ObjectArray:
        # only the rows kept become objects: a column of text may be long
        return reports[name].iloc[rows].to_numpy(object)

    for group, (needed, taken) in _GROUPS.items():
        if not all(name in present for name in needed):
            continue
        mask = np.logical_and.reduce([present[name] for name in needed])
        rows = order[mask[order]]
        last_group, last_row = _last_per_group(codes, rows, n)
        if not len(last_group):
            continue
        numbers[f"{group}_t_s"] = _scatter_numbers(last_group, t_s[last_row], n)
        for name in taken:
            target = _target_name(group, name)
            if name in _TEXT:
                texts[target] = _scatter_texts(last_group, texts_at(name, last_row), n)
            else:
                numbers[target] = _scatter_numbers(
                    last_group, numbers_in[name][last_row], n
                )
        if group in _WITH_PREVIOUS:
            keep = np.ones(len(reports), dtype=bool)
            keep[last_row] = False
            prev_group, prev_row = _last_per_group(codes, rows[keep[rows]], n)
            numbers[f"prev_{group}_t_s"] = _scatter_numbers(
                prev_group, t_s[prev_row], n
            )
            for name in needed:
                numbers[f"prev_{name}"] = _scatter_numbers(
                    prev_group, numbers_in[name][prev_row], n
                )
    for name in _QUALITY:
        if name in present:
            rows = order[present[name][order]]
            last_group, last_row = _last_per_group(codes, rows, n)
            numbers[name] = _scatter_numbers(last_group, numbers_in[name][last_row], n)
    if "squawk" in texts:  # normalised on the few rows kept
        texts["squawk"] = np.asarray(
            [_squawk_text(v) for v in texts["squawk"]], dtype=object
        )
    source_code, sources = pd.factorize(reports["source"].astype("string").fillna(""))
    seen = np.zeros((n, len(sources)), dtype=bool)
    seen[codes, source_code] = True
    return _Batch(
        keys=keys,
        numbers=numbers,
        texts=texts,
        seen=seen,
        source_names=[str(name) for name in sources],
    )


def _squawk_text(value: object) -> object:
    """A squawk as its 4 octal digits (a table read as numbers gives 671 for 0671)."""
    if isinstance(value, int | float | np.integer | np.floating):
        return f"{int(value):04d}" if np.isfinite(value) else None
    return value


def _per_group_max(codes: _IntArray, t_s: FloatArray, n: int) -> FloatArray:
    out = np.full(n, -np.inf)
    np.maximum.at(out, codes, t_s)
    return out


def _last_per_group(
    codes: _IntArray, rows: _IntArray, n: int
) -> tuple[_IntArray, _IntArray]:
    """For rows in time order: each group present (ascending), and its last row."""
    last = np.full(n, -1)
    np.maximum.at(last, codes[rows], np.arange(len(rows)))
    groups = np.flatnonzero(last >= 0)
    return groups, rows[last[groups]]


def _scatter_numbers(groups: _IntArray, values: FloatArray, n: int) -> FloatArray:
    out = np.full(n, np.nan)
    out[groups] = values
    return out


def _scatter_texts(groups: _IntArray, values: ObjectArray, n: int) -> ObjectArray:
    out = np.full(n, None, dtype=object)
    out[groups] = values
    return out


def _target_name(group: str, name: str) -> str:
    if name == "source":
        return "position_source" if group == "pos" else "velocity_source"
    return name

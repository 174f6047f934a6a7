"""The API's I/O models (aviation units, as the traffic convention and operators use).

Separate from the domain models: the routes convert with small functions.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "AlertAircraftOut",
    "AlertOut",
    "BatchReceiptOut",
    "ChainReportOut",
    "OwnTrackOut",
    "PictureOut",
    "ProblemOut",
    "ReleasedTrackOut",
    "ReportIn",
]


class ReportIn(BaseModel):
    """One report of one of the posting party's aircraft (traffic convention).

    Values are checked by validation, not here: an impossible value is counted as a
    rejected report with its reason, not refused with the whole batch.
    """

    model_config = ConfigDict(extra="forbid")

    timestamp: float | datetime | str = Field(
        description="UTC: epoch seconds or ISO 8601"
    )
    icao24: str = Field(min_length=1, max_length=32)
    latitude: float | None = Field(default=None, description="deg")
    longitude: float | None = Field(default=None, description="deg")
    altitude: float | None = Field(default=None, description="ft, barometric")
    geoaltitude: float | None = Field(default=None, description="ft, geometric")
    groundspeed: float | None = Field(default=None, description="kt")
    track: float | None = Field(default=None, description="deg true")
    vertical_rate: float | None = Field(default=None, description="ft/min")
    callsign: str | None = Field(default=None, max_length=16)
    squawk: str | None = Field(default=None, max_length=8)
    onground: bool | None = None
    source: str | None = Field(default=None, max_length=32)
    party: str | None = Field(
        default=None, description="if given, must be the token's party"
    )


class BatchReceiptOut(BaseModel):
    """What the service did with a batch (committed before this answer)."""

    batch_id: str
    rows: int
    accepted: int
    rejected: dict[str, int]


class OwnTrackOut(BaseModel):
    """One of the party's own tracks: everything the service holds of it."""

    model_config = ConfigDict(extra="allow")

    track_id: str
    icao24: str
    party: str


class ReleasedTrackOut(BaseModel):
    """Another party's aircraft as released: only the fields its owner releases."""

    model_config = ConfigDict(extra="forbid")

    track_id: str
    latitude: float | None = None
    longitude: float | None = None
    last_update_s: float | None = None
    altitude: float | None = None
    groundspeed: float | None = None
    track: float | None = None
    vertical_rate: float | None = None
    party: str | None = None
    bloc: str | None = None
    callsign: str | None = None
    type: str | None = None
    mission: str | None = None


class PictureOut(BaseModel):
    """The picture as this party may see it now."""

    at_s: float
    own: list[OwnTrackOut]
    others: list[ReleasedTrackOut]


class AlertAircraftOut(BaseModel):
    track_id: str
    own: bool
    icao24: str | None
    party: str | None
    bloc: str | None


class AdvisoryOut(BaseModel):
    """A manoeuvre advised for one aircraft of an alert, coordinated with the other's."""

    track_id: str
    own: bool
    kind: str = Field(description="vertical, heading or speed")
    text: str = Field(description='what to do, e.g. "climb at 1500 ft/min"')
    track_deg: float | None = Field(
        default=None, description="the track it leads to (own aircraft only)"
    )
    groundspeed_kt: float | None = Field(
        default=None, description="the ground speed it leads to (own aircraft only)"
    )
    vertical_rate_fpm: float | None = Field(
        default=None, description="the vertical rate it leads to (own aircraft only)"
    )


class AlertOut(BaseModel):
    """An alert involving one of this party's aircraft."""

    alert_id: str
    state: str
    level: Annotated[int, Field(ge=0)]
    highest_level: int
    aircraft: list[AlertAircraftOut]
    acknowledged_by: list[str]
    raised_at_s: float | None
    predicted_los_at_s: float | None
    los_at_s: float | None
    ended_at_s: float | None
    warning_time_s: float | None
    advisories: list[AdvisoryOut] = Field(
        default_factory=list,
        description="coordinated manoeuvre advice, own aircraft first (none yet: [])",
    )


class ChainReportOut(BaseModel):
    """The audit chain's verification."""

    ok: bool
    records: int
    seq: int | None
    problem: str | None
    detail: str
    head_seq: int | None
    head_hash: str | None
    public_key: str


class ProblemOut(BaseModel):
    """An error (RFC 9457 problem details)."""

    type: str
    title: str
    status: int
    detail: str

"""Schema of an agreement file (TOML), in aviation units at the edge.

Every quantity carries its unit in its key (``horizontal_nm``, ``lookahead_s``); every
table forbids unknown keys, so a misspelt key is an error rather than a silent default.
The defaults are DESIGN.md's: 3 NM / 1,000 ft separation, NMAC 500 ft / 100 ft, alert
levels advisory (300 s) / caution (120 s) / warning (60 s). ``docs/agreement.md`` is the
reference for people; this module is the reference for machines.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import enum
import re
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

__all__ = [
    "AgreementFile",
    "AgreementHeader",
    "AlertLevelSpec",
    "AlertingSpec",
    "Bloc",
    "DeconflictionLine",
    "EscalationRole",
    "EscalationStep",
    "Exemption",
    "ExemptionKind",
    "Frequency",
    "GroundLine",
    "InhibitionZone",
    "NmacSpec",
    "Party",
    "PartyReleasability",
    "Releasability",
    "ReleasableField",
    "SeparationSpec",
    "Tolerances",
    "Zone",
    "public_key_bytes",
]

_ID = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
Identifier = Annotated[str, Field(pattern=_ID.pattern, description="lowercase id")]
PositiveFloat = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
LatLon = tuple[
    Annotated[float, Field(ge=-90.0, le=90.0)],
    Annotated[float, Field(ge=-180.0, le=180.0)],
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def public_key_bytes(text: str) -> bytes:
    """The 32 raw bytes of an ``ed25519:<base64>`` public key.

    Raises:
        ValueError: the text is not such a key.
    """
    prefix = "ed25519:"
    if not text.startswith(prefix):
        raise ValueError("a signing key is written 'ed25519:<base64 of 32 bytes>'")
    try:
        raw = base64.b64decode(text[len(prefix) :], validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValueError("the signing key is not valid base64") from exc
    if len(raw) != 32:
        raise ValueError(f"an Ed25519 public key has 32 bytes, this one {len(raw)}")
    return raw


class AgreementHeader(_Strict):
    """``[agreement]``: identity and version."""

    id: Identifier
    version: Annotated[int, Field(ge=1)]
    title: Annotated[str, Field(min_length=1)]
    effective_from: dt.datetime | None = None
    supersedes_version: Annotated[int, Field(ge=1)] | None = None

    @model_validator(mode="after")
    def _check(self) -> Self:
        if (
            self.supersedes_version is not None
            and self.supersedes_version >= self.version
        ):
            raise ValueError("supersedes_version must be lower than version")
        if self.effective_from is not None and self.effective_from.tzinfo is None:
            raise ValueError(
                "effective_from needs a UTC offset (e.g. 2015-10-20T00:00:00Z)"
            )
        return self


class Party(_Strict):
    """``[[parties]]``: a signatory that operates aircraft."""

    id: Identifier
    name: Annotated[str, Field(min_length=1)]
    operations_centre: Annotated[str, Field(min_length=1)]
    signing_key: str
    bloc: Identifier | None = None

    @field_validator("signing_key")
    @classmethod
    def _key(cls, value: str) -> str:
        public_key_bytes(value)
        return value


class Bloc(_Strict):
    """``[[blocs]]``: parties that deconflict among themselves by other means."""

    id: Identifier
    name: Annotated[str, Field(min_length=1)]


class SeparationSpec(_Strict):
    """``[separation]``: the agreed minima and which pairs are monitored."""

    horizontal_nm: PositiveFloat = 3.0
    vertical_ft: PositiveFloat = 1000.0
    monitor_within_bloc: bool = False
    monitor_same_party: bool = False


class Tolerances(_Strict):
    """``[tolerances]``: agreed allowances for how surveillance reports altitude.

    Mode S reports altitude in 25 ft steps and barometric errors differ between
    aircraft: two aircraft in level flight at adjacent flight levels are routinely
    reported 925-975 ft apart. An aircraft in level flight (vertical rate within
    ``level_flight_max_fpm``) reported within ``flight_level_tolerance_ft`` of a flight
    level (a multiple of ``flight_level_step_ft``) is taken level at that level (its
    reported vertical rate, noise in level flight, is set to 0). 0 disables.
    """

    flight_level_step_ft: PositiveFloat = 1000.0
    flight_level_tolerance_ft: Annotated[float, Field(ge=0.0, le=200.0)] = 0.0
    level_flight_max_fpm: Annotated[float, Field(ge=0.0, le=1000.0)] = 300.0


class NmacSpec(_Strict):
    """``[nmac]``: near mid-air collision, which opens an incident."""

    horizontal_ft: PositiveFloat = 500.0
    vertical_ft: PositiveFloat = 100.0


class AlertLevelSpec(_Strict):
    """``[[alerting.levels]]``: one alert level."""

    name: Identifier
    severity: Annotated[int, Field(ge=1, le=9)]
    lookahead_s: PositiveFloat
    horizontal_nm: PositiveFloat | None = None
    vertical_ft: PositiveFloat | None = None
    tthr_s: Annotated[float, Field(ge=0.0)] | None = None
    """DO-365's modified-tau threshold: the level uses the well-clear volume."""
    early_lookahead_s: PositiveFloat | None = None
    """The look-ahead that keeps a pair shown at this level (at least ``lookahead_s``)."""

    @model_validator(mode="after")
    def _check(self) -> Self:
        if (
            self.early_lookahead_s is not None
            and self.early_lookahead_s < self.lookahead_s
        ):
            raise ValueError("early_lookahead_s cannot be shorter than lookahead_s")
        return self


def _default_levels() -> tuple[AlertLevelSpec, ...]:
    return (
        AlertLevelSpec(name="advisory", severity=1, lookahead_s=300.0),
        AlertLevelSpec(name="caution", severity=2, lookahead_s=120.0),
        AlertLevelSpec(name="warning", severity=3, lookahead_s=60.0),
    )


class AlertingSpec(_Strict):
    """``[alerting]``: levels and anti-flapping parameters."""

    confirm_m: Annotated[int, Field(ge=1)] = 2
    confirm_n: Annotated[int, Field(ge=1)] = 3
    hysteresis_s: Annotated[float, Field(ge=0.0)] = 10.0
    persistence_s: Annotated[float, Field(ge=0.0)] = 5.0
    reset_s: Annotated[float, Field(ge=0.0)] = 30.0
    levels: tuple[AlertLevelSpec, ...] = Field(default_factory=_default_levels)

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.confirm_m > self.confirm_n:
            raise ValueError("confirm_m (hits needed) cannot exceed confirm_n (window)")
        if not self.levels:
            raise ValueError("at least one alert level is needed")
        severities = [level.severity for level in self.levels]
        if severities != sorted(set(severities)):
            raise ValueError(
                "alert levels must be listed by strictly increasing severity"
            )
        names = [level.name for level in self.levels]
        if len(set(names)) != len(names):
            raise ValueError("alert level names must be unique")
        looks = [level.lookahead_s for level in self.levels]
        if looks != sorted(looks, reverse=True):
            raise ValueError("a more severe level cannot look further ahead")
        return self


class ExemptionKind(enum.StrEnum):
    """What an exemption exempts."""

    FORMATION = "formation"
    """Declared formation: the listed aircraft fly together on purpose."""
    SAME_PARTY = "same-party"
    """Pairs of one party's aircraft (the party deconflicts them itself)."""
    PAIR = "pair"
    """One named pair of aircraft."""


class Exemption(_Strict):
    """``[[exemptions]]``: pairs that do not raise alerts."""

    kind: ExemptionKind
    party: Identifier | None = None
    aircraft: tuple[Annotated[str, Field(min_length=1)], ...] = ()
    reason: Annotated[str, Field(min_length=1)]

    @model_validator(mode="after")
    def _check(self) -> Self:
        if self.kind is ExemptionKind.SAME_PARTY and self.party is None:
            raise ValueError("a same-party exemption names its party")
        if self.kind is ExemptionKind.FORMATION and len(self.aircraft) < 2:
            raise ValueError("a formation lists at least two aircraft")
        if self.kind is ExemptionKind.PAIR and len(self.aircraft) != 2:
            raise ValueError("a pair exemption lists exactly two aircraft")
        return self


class _Area(_Strict):
    """A polygon with an altitude band."""

    polygon: tuple[LatLon, ...]
    floor_ft: Annotated[float, Field(ge=-2000.0, le=100000.0)] = -2000.0
    ceiling_ft: Annotated[float, Field(ge=-2000.0, le=100000.0)] = 100000.0

    @model_validator(mode="after")
    def _check_area(self) -> Self:
        if len(self.polygon) < 3:
            raise ValueError("a polygon needs at least three [lat, lon] points")
        if self.floor_ft >= self.ceiling_ft:
            raise ValueError("floor_ft must be below ceiling_ft")
        return self


class InhibitionZone(_Area):
    """``[[inhibition_zones]]``: where alerts are inhibited (e.g. a terminal area)."""

    id: Identifier
    name: Annotated[str, Field(min_length=1)]


class Zone(_Area):
    """``[[zones]]``: an area whose entry is an event, optionally shared (need to know)."""

    id: Identifier
    name: Annotated[str, Field(min_length=1)]
    owner: Identifier | None = None
    shared: bool = False
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None

    @model_validator(mode="after")
    def _check_window(self) -> Self:
        for stamp in (self.starts_at, self.ends_at):
            if stamp is not None and stamp.tzinfo is None:
                raise ValueError("zone times need a UTC offset (e.g. ...T00:00:00Z)")
        if self.starts_at and self.ends_at and self.starts_at >= self.ends_at:
            raise ValueError("starts_at must be before ends_at")
        return self


class DeconflictionLine(_Strict):
    """``[[lines]]``: a deconfliction line; crossing it is an event.

    ``left_side`` and ``right_side`` name the party or bloc on each side, looking along
    the line from its first point to its last.
    """

    id: Identifier
    name: Annotated[str, Field(min_length=1)]
    points: tuple[LatLon, ...]
    left_side: Identifier | None = None
    right_side: Identifier | None = None

    @field_validator("points")
    @classmethod
    def _points(cls, points: tuple[LatLon, ...]) -> tuple[LatLon, ...]:
        if len(points) < 2:
            raise ValueError("a line needs at least two [lat, lon] points")
        return points


class EscalationRole(enum.StrEnum):
    """Who is called, in order, when a message is not acknowledged."""

    DUTY_OFFICER = "duty-officer"
    SENIOR_OFFICER = "senior-officer"
    COMMAND = "command"


class EscalationStep(_Strict):
    """One rung of the escalation ladder."""

    role: EscalationRole
    after_s: Annotated[float, Field(ge=0.0)]


class GroundLine(_Strict):
    """``[ground_line]``: the communication line between the operations centres."""

    endpoints: tuple[Annotated[str, Field(min_length=1)], ...]
    ack_deadline_s: PositiveFloat = 120.0
    escalation: tuple[EscalationStep, ...] = (
        EscalationStep(role=EscalationRole.DUTY_OFFICER, after_s=0.0),
        EscalationStep(role=EscalationRole.SENIOR_OFFICER, after_s=120.0),
        EscalationStep(role=EscalationRole.COMMAND, after_s=300.0),
    )

    @model_validator(mode="after")
    def _check(self) -> Self:
        if len(self.endpoints) < 2:
            raise ValueError("the ground line joins at least two operations centres")
        times = [step.after_s for step in self.escalation]
        if times != sorted(times) or len(set(times)) != len(times):
            raise ValueError(
                "escalation steps must come at strictly increasing after_s"
            )
        return self


class ReleasableField(enum.StrEnum):
    """What of an aircraft may be released to another party."""

    POSITION = "position"
    ALTITUDE = "altitude"
    VELOCITY = "velocity"
    AFFILIATION = "affiliation"
    CALLSIGN = "callsign"
    TYPE = "type"
    MISSION = "mission"


_SAFETY_FIELDS = (
    ReleasableField.POSITION,
    ReleasableField.ALTITUDE,
    ReleasableField.VELOCITY,
    ReleasableField.AFFILIATION,
)


class PartyReleasability(_Strict):
    """``[[releasability.overrides]]``: what one party releases beyond the default."""

    party: Identifier
    fields: tuple[ReleasableField, ...]


class Releasability(_Strict):
    """``[releasability]``: what each party may see of the others (need to know)."""

    fields: tuple[ReleasableField, ...] = _SAFETY_FIELDS
    disclosure_radius_nm: PositiveFloat = 20.0
    overrides: tuple[PartyReleasability, ...] = ()


class Frequency(_Strict):
    """``[[frequencies]]``: an agreed air-to-air or guard frequency."""

    name: Annotated[str, Field(min_length=1)]
    mhz: Annotated[float, Field(ge=118.0, le=400.0)]


class AgreementFile(_Strict):
    """A whole agreement file."""

    agreement: AgreementHeader
    parties: tuple[Party, ...]
    blocs: tuple[Bloc, ...] = ()
    separation: SeparationSpec = SeparationSpec()
    tolerances: Tolerances = Tolerances()
    nmac: NmacSpec = NmacSpec()
    alerting: AlertingSpec = AlertingSpec()
    exemptions: tuple[Exemption, ...] = ()
    inhibition_zones: tuple[InhibitionZone, ...] = ()
    zones: tuple[Zone, ...] = ()
    lines: tuple[DeconflictionLine, ...] = ()
    ground_line: GroundLine
    releasability: Releasability = Releasability()
    frequencies: tuple[Frequency, ...] = ()

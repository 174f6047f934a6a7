"""Cursor on Target to TAK clients: pytak receives each party's picture over TCP/TLS.

The CoT server runs in the test's own event loop (``asyncio.run`` inside each test);
the deployment's cycles are driven by hand in the same thread, so the service's
deliveries reach the connections through ``call_soon_threadsafe`` as they would from
the cycle's worker thread. The receiving side is pytak's: ``protocol_factory`` opens
the connection (TCP, or TLS with its client-certificate settings), ``TXWorker`` sends
the token line, ``RXWorker.readcot`` cuts the stream into events.
"""

from __future__ import annotations

import asyncio
import configparser
import contextlib
import json
import ssl
import xml.etree.ElementTree as ET

import pytak
import pytest

from skypact.api.cot import (
    ALERT_CANCEL_TYPE,
    ALERT_TYPE,
    BLOC_TYPE,
    DELETE_TYPE,
    OWN_TYPE,
    PARTY_TYPE,
    UNKNOWN_TYPE,
    CotFeed,
    CotServer,
    serve_cot,
    ssl_context_for,
)
from skypact.errors import ConfigError
from skypact.tracks.ingest.cot import decode_cot
from tests.integration.api.conftest import T0_S, deploy
from tests.integration.api.scenario import (
    FLIGHTS,
    GBR_TANKER,
    RUS_FIGHTER,
    RUS_TRANSPORT,
    USA_FIGHTER,
)
from tests.integration.api.tls import Authority

PING = b'<event version="2.0" uid="ANDROID-1" type="t-x-c-t" how="h-g-i-g-o"/>\n'
WAIT_S = 30.0
"""The most any read or wait may take before the test fails (never reached)."""


# --------------------------------------------------------------------------- helpers


def report_all(deployment) -> None:
    for party in ("usa", "rus", "gbr"):
        body = [
            f.report(T0_S, deployment.clock.now_s) for f in FLIGHTS if f.party == party
        ]
        answer = deployment.client.post(
            "/api/v1/reports", json=body, headers=deployment.auth(party)
        )
        assert answer.status_code == 200


def report_and_cycle(deployment) -> None:
    """Every party reports its aircraft now, then one cycle runs (the clock + 1 s)."""
    report_all(deployment)
    deployment.cycle()


def fly(deployment, seconds: int) -> None:
    for _ in range(seconds):
        report_all(deployment)
        deployment.cycle()


def refusals(deployment) -> list[tuple[str, dict]]:
    return [
        (r.actor, json.loads(r.payload))
        for r in deployment.runtime.repository.audit_records()
        if r.kind == "refused"
    ]


def audited(deployment, kind: str) -> list[dict]:
    return [
        json.loads(r.payload)
        for r in deployment.runtime.repository.audit_records()
        if r.kind == kind
    ]


async def eventually(predicate) -> None:
    """Wait (bounded) until ``predicate()`` holds: for work the server ends alone."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_S
    while not predicate():
        assert loop.time() < deadline, "the server never got there"
        await asyncio.sleep(0.01)


def pytak_config(url: str, **extra: str) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser["skypact-test"] = {"COT_URL": url, "TAK_PROTO": "0", **extra}
    return parser["skypact-test"]


class TakClient:
    """A TAK client as pytak builds one: its RX worker's reader and its TX worker."""

    def __init__(self, config, reader, writer) -> None:
        self.rx = pytak.RXWorker(asyncio.Queue(), config, reader)
        self.tx = pytak.TXWorker(asyncio.Queue(), config, writer)
        self.writer = writer
        self.raw = bytearray()
        self.events: list[ET.Element] = []

    @classmethod
    async def connect(cls, url: str, **extra: str) -> TakClient:
        config = pytak_config(url, **extra)
        reader, writer = await pytak.protocol_factory(config)
        return cls(config, reader, writer)

    async def send_token(self, token: str) -> None:
        await self.tx.put_queue(f"SKYPACT-TOKEN {token}\n".encode())
        await self.tx.run_once()  # takes it from pytak's TX queue and writes it

    async def next_event(self) -> ET.Element | None:
        """The next event, or ``None`` once the server has closed the connection."""
        try:
            data = await asyncio.wait_for(self.rx.readcot(), WAIT_S)
        except (ConnectionError, ssl.SSLError):
            return None
        if not data:
            return None
        self.raw += data
        event = ET.fromstring(data)
        self.events.append(event)
        return event

    async def event(self) -> ET.Element:
        event = await self.next_event()
        assert event is not None, "closed before the expected event"
        return event

    async def until(self, predicate) -> ET.Element:
        while True:
            event = await self.next_event()
            assert event is not None, "closed before the expected event"
            if predicate(event):
                return event

    async def rest(self) -> list[ET.Element]:
        """Every event until the server closes the connection."""
        events = []
        while (event := await self.next_event()) is not None:
            events.append(event)
        return events

    async def close(self) -> None:
        self.writer.close()
        with contextlib.suppress(ConnectionError, ssl.SSLError):
            await asyncio.wait_for(self.writer.wait_closed(), WAIT_S)


@contextlib.asynccontextmanager
async def serving(deployment, ssl_context=None, **options):
    """A CoT server of the deployment on a free port, stopped on the way out."""
    server = CotServer(deployment.runtime, "127.0.0.1", 0, ssl_context, **options)
    await server.start()
    try:
        yield server
    finally:
        await server.stop()


@contextlib.asynccontextmanager
async def tak_client(server: CotServer, scheme: str = "tcp", **extra: str):
    host, port = server.address
    client = await TakClient.connect(f"{scheme}://{host}:{port}", **extra)
    try:
        yield client
    finally:
        await client.close()


def of_type(cot_type: str):
    return lambda event: event.get("type") == cot_type


def detail(event: ET.Element, tag: str) -> ET.Element:
    found = event.find(f"detail/{tag}")
    assert found is not None, f"no <{tag}> in {ET.tostring(event)!r}"
    return found


def has(event: ET.Element, tag: str) -> bool:
    return event.find(f"detail/{tag}") is not None


def remarks(event: ET.Element) -> str:
    text = detail(event, "remarks").text
    assert text is not None
    return text


def point_of(event: ET.Element) -> ET.Element:
    found = event.find("point")
    assert found is not None
    return found


def number(element: ET.Element, name: str) -> float:
    value = element.get(name)
    assert value is not None, f"no {name}"
    return float(value)


def handles(deployment, party: str) -> tuple[str, str]:
    """The party's own fighter's track_id, and the other aircraft's in its alert."""
    (alert,) = deployment.client.get(
        "/api/v1/alerts", headers=deployment.auth(party)
    ).json()
    own = next(a for a in alert["aircraft"] if a["own"])
    other = next(a for a in alert["aircraft"] if not a["own"])
    return own["track_id"], other["track_id"]


# --------------------------------------------------------------------------- TCP


def test_each_party_sees_its_own_and_only_what_an_alert_releases(deployment):
    async def scenario():
        report_and_cycle(deployment)  # 12:00:00 reports; now 12:00:01
        server = await serve_cot(deployment.runtime, "127.0.0.1", 0, None)
        try:
            async with tak_client(server) as usa, tak_client(server) as gbr:
                await usa.send_token(deployment.token("usa"))
                await gbr.send_token(deployment.token("gbr", "analyst"))
                # a TAK client pings its server; the feed reads and ignores it
                await usa.tx.send_data(PING)
                # at once, the current picture
                first = await usa.event()
                tanker = await gbr.event()
                await eventually(lambda: server.clients == 2)
                fly(deployment, 12)
                foreign = await usa.until(of_type(PARTY_TYPE))
                marker = await usa.until(of_type(ALERT_TYPE))
                await server.stop()  # closes both feeds: read each to its end
                await usa.rest()
                await gbr.rest()
                assert server.clients == 0
        finally:
            await server.stop()
        return first, tanker, foreign, marker, usa, gbr

    first, tanker, foreign, marker, usa, gbr = asyncio.run(scenario())
    own_id, other_id = handles(deployment, "usa")
    (alert,) = deployment.client.get(
        "/api/v1/alerts", headers=deployment.auth("usa")
    ).json()

    # its own fighter: friend, with its callsign, icao24 and measured state
    assert first.get("uid") == f"SKYPACT-{own_id}"
    assert first.get("type") == OWN_TYPE
    assert first.get("how") == "m-f"
    assert detail(first, "contact").get("callsign") == USA_FIGHTER.callsign
    assert detail(first, "_skypact_").get("icao24") == USA_FIGHTER.icao24
    assert first.get("time") == first.get("start") == "2015-10-20T12:00:01.000Z"
    assert first.get("stale") == "2015-10-20T12:00:04.000Z"  # three 1-s cycles
    point = point_of(first)
    assert number(point, "lat") == pytest.approx(USA_FIGHTER.lat0, abs=1e-6)
    assert number(point, "lon") == pytest.approx(USA_FIGHTER.lon0, abs=1e-6)
    assert number(point, "hae") == pytest.approx(9144.0, abs=0.1)  # 30 000 ft
    assert point.get("ce") == point.get("le") == "9999999"
    track = detail(first, "track")
    assert number(track, "course") == 90.0
    assert number(track, "speed") == pytest.approx(231.5, abs=0.01)  # 450 kt
    assert "position at 2015-10-20T12:00:00.000Z" in remarks(first)

    # nothing foreign while the Russian fighter is 40 NM away (radius 20 NM)...
    before = usa.events[: usa.events.index(foreign)]
    assert {e.get("type") for e in before} == {OWN_TYPE}
    # ... then, once alerted, the Russian fighter: neutral, by its handle, anonymous
    assert foreign.get("uid") == f"SKYPACT-{other_id}"
    assert not has(foreign, "contact")
    why = remarks(foreign)
    assert why.startswith("rus aircraft (bloc russian); released: alert ")
    assert alert["alert_id"] in why
    assert "icao24" not in detail(foreign, "_skypact_").attrib
    for secret in (RUS_FIGHTER.icao24, RUS_FIGHTER.callsign, RUS_TRANSPORT.icao24):
        assert secret.encode() not in usa.raw
    # and the alert, as a marker between the two fighters
    assert marker.get("uid") == f"SKYPACT-ALERT-{alert['alert_id']}"
    assert detail(marker, "emergency").get("type") == "Custom"
    assert "with a neutral (rus) aircraft" in remarks(marker)
    assert detail(marker, "link").get("uid") == f"SKYPACT-{own_id}"
    assert USA_FIGHTER.lon0 < number(point_of(marker), "lon") < RUS_FIGHTER.lon0
    assert {e.get("type") for e in usa.events} == {OWN_TYPE, PARTY_TYPE, ALERT_TYPE}

    # gbr: its tanker, and nothing of the fighters' encounter
    assert detail(tanker, "contact").get("callsign") == GBR_TANKER.callsign
    for secret in (
        USA_FIGHTER.icao24, USA_FIGHTER.callsign,
        RUS_FIGHTER.icao24, RUS_FIGHTER.callsign,
    ):  # fmt: skip
        assert secret.encode() not in gbr.raw
    assert {(e.get("type"), e.get("uid")) for e in gbr.events} == {
        (OWN_TYPE, tanker.get("uid"))
    }

    # SkyPact's own CoT reader takes the stream as any TAK consumer would
    decoded = decode_cot(bytes(usa.raw), source="usa feed")
    assert set(decoded.table["affiliation"]) == {"friend", "neutral"}
    assert set(decoded.table["callsign"].dropna()) == {USA_FIGHTER.callsign}
    alerts = sum(e.get("type") == ALERT_TYPE for e in usa.events)
    assert decoded.problems.total == alerts  # the markers are not air tracks


def test_an_unreleased_affiliation_is_unknown(tmp_path):
    deployment = deploy(
        tmp_path,
        extra='[releasability]\nfields = ["position", "altitude", "velocity"]\n',
    )

    async def scenario():
        report_and_cycle(deployment)
        async with serving(deployment) as server, tak_client(server) as usa:
            await usa.send_token(deployment.token("usa"))
            await usa.until(of_type(OWN_TYPE))
            fly(deployment, 12)
            foreign = await usa.until(of_type(UNKNOWN_TYPE))
            marker = await usa.until(of_type(ALERT_TYPE))
        return foreign, marker, bytes(usa.raw)

    with deployment.client:
        foreign, marker, raw = asyncio.run(scenario())
    assert "party" not in detail(foreign, "_skypact_").attrib
    assert remarks(foreign).startswith("aircraft of unreleased")
    assert "an unknown (affiliation not released)" in remarks(marker)
    assert b"rus" not in raw.replace(b"russian", b"")  # the owner is never named
    assert b"russian" not in raw


# --------------------------------------------------------------------------- TLS


@pytest.fixture
def authority(tmp_path):
    return Authority.create(tmp_path / "pki")


# pytak's TLS client (get_ssl_ctx) sets the deprecated ssl.OP_NO_TLSv1* options
@pytest.mark.filterwarnings("ignore:ssl.OP_NO_SSL:DeprecationWarning")
def test_tls_client_certificates_name_the_party(deployment, authority):
    issued = authority.server()
    context = ssl_context_for(issued.cert, issued.key, authority.cert)
    usa_cert = authority.client("usa", "usa-tak-1")
    mallory_cert = authority.client("mallory", "mallory-tak")

    def tls(cert) -> dict[str, str]:
        return {
            "PYTAK_TLS_CLIENT_CERT": str(cert.cert),
            "PYTAK_TLS_CLIENT_KEY": str(cert.key),
            "PYTAK_TLS_CLIENT_CAFILE": str(authority.cert),
        }

    async def scenario():
        report_and_cycle(deployment)
        async with serving(deployment, context) as server:
            async with (
                tak_client(server, "tls", **tls(usa_cert)) as usa,
                tak_client(server, "tls", **tls(mallory_cert)) as mallory,
            ):
                own = await usa.event()  # no token line: the certificate is enough
                refused = await mallory.next_event()
                fly(deployment, 1)
                again = await usa.until(of_type(OWN_TYPE))
            # a client without a certificate fails the handshake
            host, port = server.address
            bare = ssl.create_default_context(cafile=str(authority.cert))
            reader, writer = await asyncio.open_connection(host, port, ssl=bare)
            with contextlib.suppress(ConnectionError, ssl.SSLError):
                assert await asyncio.wait_for(reader.read(), WAIT_S) == b""
            writer.close()
            with contextlib.suppress(ConnectionError, ssl.SSLError):
                await writer.wait_closed()
            await eventually(lambda: len(refusals(deployment)) == 2)
        return own, refused, again

    own, refused, again = asyncio.run(scenario())
    assert own is not None
    assert detail(own, "contact").get("callsign") == USA_FIGHTER.callsign
    assert again.get("uid") == own.get("uid")
    assert refused is None  # mallory's feed was closed at once
    (who, mallory), (_, bare) = refusals(deployment)
    assert who == "anonymous"
    assert mallory["reason"] == "certificate names no party of the agreement"
    assert mallory["organization"] == ["mallory"]
    assert mallory["where"] == "cot"
    assert bare["reason"].startswith("TLS handshake failed")
    assert deployment.runtime.repository.verify_audit().ok


def test_ssl_context_for_refuses_unusable_files(tmp_path, authority):
    issued = authority.server()
    with pytest.raises(ConfigError, match="tls-cert"):
        ssl_context_for(tmp_path / "nowhere.pem", issued.key)
    with pytest.raises(ConfigError, match="client-ca"):
        ssl_context_for(issued.cert, issued.key, tmp_path / "nowhere.pem")
    context = ssl_context_for(issued.cert, issued.key)
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert context.verify_mode == ssl.CERT_NONE  # then a token line authenticates


def test_tls_without_client_certificates_takes_a_token_line(deployment, authority):
    issued = authority.server()
    context = ssl_context_for(issued.cert, issued.key)

    async def scenario():
        report_and_cycle(deployment)
        async with serving(deployment, context) as server:
            host, port = server.address
            client = ssl.create_default_context(cafile=str(authority.cert))
            reader, writer = await asyncio.open_connection(host, port, ssl=client)
            writer.write(f"SKYPACT-TOKEN {deployment.token('rus')}\n".encode())
            data = await asyncio.wait_for(reader.readuntil(b"</event>"), WAIT_S)
            writer.close()
            with contextlib.suppress(ConnectionError, ssl.SSLError):
                await writer.wait_closed()
        return ET.fromstring(data)

    event = asyncio.run(scenario())
    assert detail(event, "contact").get("callsign") in {
        RUS_FIGHTER.callsign,
        RUS_TRANSPORT.callsign,
    }


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (b"SKYPACT-TOKEN not-a-token\n", "malformed"),
        (PING, "missing"),
        (b"\n", "missing"),
    ],
)
def test_a_bad_token_line_is_refused_and_audited(deployment, line, reason):
    async def scenario():
        async with serving(deployment) as server, tak_client(server) as client:
            await client.tx.send_data(line)
            return await client.next_event()

    assert asyncio.run(scenario()) is None  # closed without a word
    ((actor, payload),) = refusals(deployment)
    assert actor == "anonymous"
    assert (payload["reason"], payload["where"]) == (reason, "cot")


def test_an_auditor_has_no_picture_feed(deployment):
    async def scenario():
        report_and_cycle(deployment)
        async with serving(deployment) as server, tak_client(server) as client:
            await client.send_token(deployment.token("usa", "auditor"))
            return await client.next_event()

    assert asyncio.run(scenario()) is None
    ((actor, payload),) = refusals(deployment)
    assert actor == "usa/auditor"
    assert payload["action"] == "read-picture"
    assert "auditor" in payload["reason"]
    assert deployment.token("usa", "auditor").split(".")[1] not in json.dumps(payload)


def test_silence_is_refused_after_the_authentication_time(deployment):
    async def scenario():
        async with (
            serving(deployment, auth_timeout_s=0.1) as server,
            tak_client(server) as client,
        ):
            return await client.next_event()  # it says nothing; the server hangs up

    assert asyncio.run(scenario()) is None
    ((_, payload),) = refusals(deployment)
    assert payload["reason"] == "missing"


# --------------------------------------------------------------------------- slow


def test_a_client_that_falls_behind_is_disconnected_and_audited(deployment):
    async def scenario():
        report_and_cycle(deployment)
        async with (
            serving(deployment, queue_size=2) as server,
            tak_client(server) as client,
        ):
            await client.send_token(deployment.token("usa"))
            assert await client.next_event() is not None
            # five updates come while the connection has no turn to send them
            fly(deployment, 5)
            await client.rest()
            await eventually(lambda: bool(audited(deployment, "disconnected")))
            await eventually(lambda: server.clients == 0)

    asyncio.run(scenario())
    (payload,) = audited(deployment, "disconnected")
    assert payload["party"] == "usa"
    assert payload["reason"] == "client too slow"
    assert payload["queue_size"] == 2


def test_a_server_starts_once_and_stops_idempotently(deployment):
    async def scenario():
        server = CotServer(deployment.runtime, "127.0.0.1", 0, None)
        with pytest.raises(RuntimeError, match="not started"):
            server.address  # noqa: B018
        await server.start()
        with pytest.raises(RuntimeError, match="already started"):
            await server.start()
        await server.stop()
        await server.stop()

    asyncio.run(scenario())
    with pytest.raises(ValueError, match="queue_size"):
        CotServer(deployment.runtime, "127.0.0.1", 0, None, queue_size=0)


# --------------------------------------------------------------------------- mapping


def picture(at_s: float, own=(), others=()) -> dict:
    return {"type": "picture", "at_s": at_s, "own": list(own), "others": list(others)}


OWN_ROW = {
    "track_id": "a1", "party": "usa", "icao24": "ae1234", "callsign": "VIPER11",
    "status": "live", "latitude": 34.8, "longitude": 38.5, "altitude": 30_000.0,
    "geoaltitude": 30_500.0, "groundspeed": 450.0, "track": 90.0,
    "vertical_rate": -500.0, "last_update_s": T0_S, "ce_m": 12.5, "le_m": 20.0,
    "bloc": "coalition",
}  # fmt: skip
FOREIGN_ROW = {
    "track_id": "f1", "latitude": 34.8, "longitude": 39.0, "last_update_s": T0_S,
    "altitude": 31_000.0, "groundspeed": 400.0, "track": 270.0,
    "vertical_rate": 0.0, "party": "rus", "bloc": "russian",
}  # fmt: skip


def events_of(chunks: list[bytes]) -> list[ET.Element]:
    return [ET.fromstring(chunk) for chunk in chunks]


class TestCotFeed:
    def feed(self) -> CotFeed:
        return CotFeed(party="usa", bloc="coalition", stale_s=5.0, level_names={2: "c"})

    def test_own_rows_use_geometric_height_and_their_own_errors(self):
        (event,) = events_of(self.feed().translate(picture(T0_S, own=[OWN_ROW])))
        point = point_of(event)
        assert number(point, "hae") == pytest.approx(9296.4)  # 30 500 ft
        assert (point.get("ce"), point.get("le")) == ("12.5", "20")
        own = detail(event, "_skypact_").attrib
        assert own["hae_source"] == "geoaltitude"
        assert own["altitude_ft"] == "30000"
        assert own["vertical_rate_fpm"] == "-500"
        assert own["status"] == "live"

    def test_affiliations_relative_to_the_viewer(self):
        partner = {**FOREIGN_ROW, "track_id": "p1", "party": "gbr", "bloc": "coalition"}
        hidden = {
            k: v for k, v in FOREIGN_ROW.items() if k not in ("party", "bloc")
        } | {"track_id": "h1"}
        blocless = {**FOREIGN_ROW, "track_id": "n1", "party": "tur", "bloc": None}
        events = events_of(
            self.feed().translate(
                picture(T0_S, others=[FOREIGN_ROW, partner, hidden, blocless])
            )
        )
        assert [e.get("type") for e in events] == [
            PARTY_TYPE,
            BLOC_TYPE,
            UNKNOWN_TYPE,
            PARTY_TYPE,
        ]
        assert all(not has(e, "contact") for e in events)
        assert "within the disclosure radius" in remarks(events[0])
        assert detail(events[0], "_skypact_").get("hae_source") == "altitude"

    def test_an_alert_with_a_bloc_partner_names_it_friendly(self):
        feed = self.feed()
        partner = {**FOREIGN_ROW, "track_id": "p1", "party": "gbr", "bloc": "coalition"}
        view = {
            "alert_id": "A3", "state": "active", "level": 3,
            "aircraft": [{"track_id": "a1", "own": True},
                         {"track_id": "p1", "own": False, "party": "gbr",
                          "bloc": "coalition"}],
        }  # fmt: skip
        feed.translate({"type": "alert", "alert": view})
        *_, marker = events_of(
            feed.translate(picture(T0_S, own=[OWN_ROW], others=[partner]))
        )
        text = remarks(marker)
        assert "conflict level 3 with a friendly bloc partner's (gbr) aircraft" in text

    def test_a_released_callsign_is_shown_and_unsafe_text_is_cleaned(self):
        row = {**FOREIGN_ROW, "callsign": "RFF\x017201 "}
        (event,) = events_of(self.feed().translate(picture(T0_S, others=[row])))
        assert detail(event, "contact").get("callsign") == "RFF?7201"

    def test_a_track_that_leaves_the_picture_is_deleted(self):
        feed = self.feed()
        feed.translate(picture(T0_S, own=[OWN_ROW], others=[FOREIGN_ROW]))
        (own, gone) = events_of(feed.translate(picture(T0_S + 1, own=[OWN_ROW])))
        assert own.get("type") == OWN_TYPE
        assert gone.get("type") == DELETE_TYPE
        assert gone.get("uid") == "SKYPACT-f1"
        assert detail(gone, "link").get("uid") == "SKYPACT-f1"
        assert detail(gone, "__forcedelete") is not None

    def test_rows_without_a_position_are_not_sent(self):
        row = {**FOREIGN_ROW, "latitude": None}
        assert self.feed().translate(picture(T0_S, others=[row])) == []

    def test_an_alert_marker_follows_the_pair_until_it_is_cancelled(self):
        feed = self.feed()
        view = {
            "alert_id": "A1", "state": "active", "level": 2, "highest_level": 2,
            "aircraft": [
                {"track_id": "a1", "own": True, "icao24": "ae1234", "party": "usa",
                 "bloc": "coalition"},
                {"track_id": "f1", "own": False, "icao24": None, "party": "rus",
                 "bloc": "russian"},
            ],
            "acknowledged_by": ["usa"], "predicted_los_at_s": T0_S + 100,
        }  # fmt: skip
        assert feed.translate({"type": "alert", "alert": view}) == []
        assert feed.translate({"type": "message", "message": {}}) == []
        frame = events_of(
            feed.translate(picture(T0_S, own=[OWN_ROW], others=[FOREIGN_ROW]))
        )
        assert [e.get("type") for e in frame] == [OWN_TYPE, PARTY_TYPE, ALERT_TYPE]
        assert "released: alert A1, level 2 (c)" in remarks(frame[1])
        marker = frame[2]
        assert number(point_of(marker), "lon") == pytest.approx(38.75, abs=1e-3)
        text = remarks(marker)
        assert "conflict level 2 (c) with a neutral (rus) aircraft SKYPACT-f1" in text
        assert "own aircraft VIPER11" in text
        assert "acknowledged by usa" in text
        assert "predicted loss of separation at 2015-10-20T12:01:40.000Z" in text
        # refreshed with the next picture, with the other aircraft gone: own position
        again = events_of(feed.translate(picture(T0_S + 1, own=[OWN_ROW])))
        assert [e.get("type") for e in again] == [OWN_TYPE, DELETE_TYPE, ALERT_TYPE]
        assert number(point_of(again[2]), "lon") == pytest.approx(38.5)
        ended = {**view, "state": "cleared", "level": 0}
        feed.translate({"type": "alert", "alert": ended})
        last = events_of(feed.translate(picture(T0_S + 2)))
        assert [e.get("type") for e in last] == [DELETE_TYPE, ALERT_CANCEL_TYPE]
        cancel = last[1]
        assert cancel.get("uid") == "SKYPACT-ALERT-A1"
        assert detail(cancel, "emergency").get("cancel") == "true"
        assert number(point_of(cancel), "lon") == pytest.approx(38.5)
        assert feed.translate(picture(T0_S + 3)) == []

    def test_an_alert_with_no_known_position_waits(self):
        feed = self.feed()
        view = {
            "alert_id": "A2", "state": "active", "level": 1,
            "aircraft": [{"track_id": "zz", "own": True}],
        }  # fmt: skip
        feed.translate({"type": "alert", "alert": view})
        assert feed.translate(picture(T0_S)) == []
        feed.translate({"type": "alert", "alert": {**view, "state": "expired"}})
        assert feed.translate(picture(T0_S + 1)) == []

    def test_stale_must_be_positive(self):
        with pytest.raises(ValueError, match="stale_s"):
            CotFeed(party="usa", bloc=None, stale_s=0.0)

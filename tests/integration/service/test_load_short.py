"""The load benchmark's short run, as a correctness test (not a speed test).

``bench/load.py`` at 200 aircraft of four parties (two blocs) for 20 s, with six
planted converging pairs, against a real ``skypact serve`` subprocess over SQLite:
every acknowledged batch is stored whole, every report reaches its own party's live
feed, each planted pair's alert reaches exactly its two parties, nothing else raises an
alert, the audit chain verifies and the server stops cleanly. Nothing here is timed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[3] / "bench"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))

import load  # noqa: E402  (bench/load.py: the benchmark's driver)

pytestmark = pytest.mark.slow

AIRCRAFT = 200
SECONDS = 20
PAIRS = 6


@pytest.fixture(scope="module")
def result(tmp_path_factory: pytest.TempPathFactory) -> load.LoadResult:
    config = load.LoadConfig(aircraft=AIRCRAFT, seconds=SECONDS, pairs=PAIRS)
    return load.run_load(tmp_path_factory.mktemp("load"), config, log=lambda _: None)


def test_every_acknowledged_batch_is_stored_whole(result):
    parties = len(result.config.parties)
    assert result.refused_batches == {}
    assert result.acknowledged_batches == parties * SECONDS
    assert result.acknowledged_reports == AIRCRAFT * SECONDS
    assert result.stored_reports == result.acknowledged_reports
    assert result.batches_missing_or_short == []


def test_the_audit_chain_verifies(result):
    assert result.audit_ok
    assert result.audit_exit_code == 0
    # one record per batch at least, plus the alert transitions
    assert result.audit_records > result.acknowledged_batches


def test_every_batch_reaches_its_own_partys_feed(result):
    run = result.run
    assert result.latencies.never_on_feed == 0
    assert result.latencies.alerts_unmatched == 0
    for party, feed in run.feeds.items():
        own = len(result.fleet.rows_of(party))
        pictures = [m for m in feed.messages if m.kind == "picture"]
        assert pictures, party
        # once its first batch is in, a party always sees every one of its aircraft
        counts = {m.own for m in pictures if m.own_newest_s is not None}
        assert counts == {own}, party
        assert feed.closed is not None
        assert "1000" in feed.closed  # a normal closure: the client's


def test_alerts_reach_exactly_the_parties_involved(result):
    alerts = result.alerts
    assert alerts.planted == PAIRS
    assert alerts.raised == PAIRS
    assert alerts.to_exactly_the_pair == PAIRS
    assert alerts.unexpected == []
    run = result.run
    for pair in result.fleet.pairs:
        for party, feed in run.feeds.items():
            own_alerted = {
                a["icao24"]
                for m in feed.messages
                if m.alert is not None
                for a in m.alert["aircraft"]
                if a["own"]
            }
            involved = {pair.a_party: pair.a_icao24, pair.b_party: pair.b_icao24}
            if party in involved:
                assert involved[party] in own_alerted, (pair, party)
            else:
                assert not own_alerted & {pair.a_icao24, pair.b_icao24}


def test_no_feed_names_another_partys_aircraft(result):
    icao_of = {
        party: set(result.fleet.icao24[result.fleet.rows_of(party)].tolist())
        for party in result.run.feeds
    }
    for party, feed in result.run.feeds.items():
        for message in feed.messages:
            if message.alert is None:
                continue
            for aircraft in message.alert["aircraft"]:
                if aircraft["own"]:
                    assert aircraft["icao24"] in icao_of[party]
                else:
                    assert aircraft["icao24"] is None  # not released by default


def test_the_server_stops_cleanly(result):
    assert result.server_stopped_cleanly, result.server_log_tail

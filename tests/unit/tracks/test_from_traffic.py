"""The traffic-object adapter's contract: anything whose ``.data`` is a traffic table.

traffic's own Flight and Traffic are read in tests/compat (their own environment).
"""

import pandas as pd
import pytest

from skypact.tracks.ingest.reader import from_traffic


class _Holder:
    """What the adapter relies on of traffic's Flight and Traffic: ``.data``."""

    def __init__(self, data: pd.DataFrame) -> None:
        self.data = data


def _rows(icao24: str, n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "timestamp": pd.date_range(
                "2021-10-07 12:00", periods=n, freq="s", tz="UTC"
            ),
            "icao24": icao24,
            "latitude": [43.0 + i * 0.001 for i in range(n)],
            "longitude": 1.0,
            "altitude": 30_000,
            "groundspeed": 450.0,
            "track": 0.0,
            "vertical_rate": 0,
        }
    )


def test_one_object_and_a_list_of_objects() -> None:
    one = from_traffic(_Holder(_rows("4ca1fa", 3)))
    assert one.format == "traffic"
    assert list(one.table["latitude"]) == [43.0, 43.001, 43.002]
    assert set(one.table["source"]) == {"traffic"}
    several = from_traffic([_Holder(_rows("4ca1fa", 2)), _Holder(_rows("39c902", 4))])
    assert list(several.table["icao24"]) == ["4ca1fa"] * 2 + ["39c902"] * 4
    assert several.table["timestamp"].iloc[0] == pd.Timestamp(
        "2021-10-07 12:00", tz="UTC"
    )


def test_a_source_column_of_its_own_is_kept() -> None:
    rows = _rows("4ca1fa", 2).assign(source=pd.Series(["radar", pd.NA]))
    table = from_traffic(_Holder(rows), label="adsb").table
    assert list(table["source"]) == ["radar", "adsb"]


@pytest.mark.parametrize("data", [pd.DataFrame(), "quickstart.json", 3, [1, 2], []])
def test_anything_else_is_refused_naming_what_it_got(data: object) -> None:
    with pytest.raises(TypeError, match=f"got {type(data).__name__}"):
        from_traffic(data)

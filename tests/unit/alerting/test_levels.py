"""Alert levels from an agreement, and each pair's raw level in a cycle."""

from __future__ import annotations

from pathlib import Path

import pytest
from numpy.testing import assert_allclose

from skypact.agreement.document import parse_agreement
from skypact.alerting.levels import do365b_profile, profile_from_agreement, raw_levels
from skypact.detection.base import PairFilter
from skypact.detection.wellclear import WellClearDetector
from skypact.errors import AgreementInvalidError
from skypact.units import ft_to_m, nm_to_m
from tests.factories import Plane, make_states, offset

EXAMPLE = Path(__file__).resolve().parents[3] / "examples/agreements/syria-2015.toml"


@pytest.fixture(scope="module")
def profile():
    return profile_from_agreement(parse_agreement(EXAMPLE.read_bytes()).content)


def test_profile_from_the_syria_agreement(profile):
    assert [lv.name for lv in profile.levels] == ["advisory", "caution", "warning"]
    assert [lv.lookahead_s for lv in profile.levels] == [300.0, 120.0, 60.0]
    assert_allclose([lv.horizontal_m for lv in profile.levels], nm_to_m(3.0))
    assert_allclose([lv.vertical_m for lv in profile.levels], ft_to_m(1000.0))
    assert (profile.confirm_m, profile.confirm_n) == (2, 3)
    assert (profile.persistence_s, profile.hysteresis_s) == (5.0, 10.0)


@pytest.mark.parametrize(
    ("gap_nm", "expected_level"),
    [
        # Head-on at 800 kt closing (0.2222 NM/s); loss of 3 NM at (gap - 3) / 0.2222 s.
        (70.0, 0),  # t_in 301.5 s: beyond every look-ahead, no level
        (60.0, 1),  # t_in 256.5 s: advisory (300 s)
        (28.0, 2),  # t_in 112.5 s: caution (120 s)
        (15.0, 3),  # t_in 54 s: warning (60 s)
        (2.0, 3),  # separation already lost: warning
    ],
)
def test_raw_level_by_time_to_loss(profile, gap_nm, expected_level):
    b_lat, b_lon = offset(0.0, 30.0, gap_nm, 90.0)
    planes = [
        Plane("ae0001", 0.0, 30.0, gs_kt=400, trk_deg=90, party="usa"),
        Plane("150001", b_lat, b_lon, gs_kt=400, trk_deg=270, party="rus"),
    ]
    found = raw_levels(make_states(planes), profile)
    t_in = (gap_nm - 3.0) / (800.0 / 3600.0)
    if expected_level == 0:
        assert len(found.level) == 0
        return
    assert found.level.tolist() == [expected_level]
    assert_allclose(found.t_in_s, max(t_in, 0.0), atol=0.5)


def test_no_conflict_no_level(profile):
    planes = [
        Plane("ae0001", 0.0, 30.0, party="usa"),
        Plane("150001", 10.0, 30.0, party="rus"),
    ]
    assert len(raw_levels(make_states(planes), profile).level) == 0


class TestDo365b:
    """The built-in DO-365B profile: well-clear levels and the early look-ahead."""

    @staticmethod
    def head_on(gap_nm: float):
        b_lat, b_lon = offset(34.0, -117.0, gap_nm, 0.0)
        return make_states(
            [
                Plane("own", 34.0, -117.0, alt_ft=17000, gs_kt=200, trk_deg=0),
                Plane("int", b_lat, b_lon, alt_ft=17000, gs_kt=600, trk_deg=180),
            ]
        )

    def test_levels_follow_the_alerting_times(self):
        profile = do365b_profile()
        # 800 kt closing; modified tau hits 35 s at 7.83 NM: entry (gap - 7.83) / 0.2222.
        assert raw_levels(self.head_on(7.83 + 0.2222 * 50), profile).level.tolist() == [
            2
        ]
        assert len(raw_levels(self.head_on(7.83 + 0.2222 * 60), profile).level) == 0
        assert raw_levels(self.head_on(7.83 + 0.2222 * 20), profile).level.tolist() == [
            3
        ]

    def test_early_lookahead_keeps_a_shown_level(self):
        profile = do365b_profile()
        states = self.head_on(7.83 + 0.2222 * 65)  # entry in about 65 s
        assert len(raw_levels(states, profile).level) == 0  # not raised (55 s)
        kept = raw_levels(states, profile, shown={(0, 1): 2})
        assert kept.level.tolist() == [2]  # kept (early 75 s)
        # The early look-ahead belongs to the level shown, not to the others: shown at
        # 1 it keeps 1 (preventive, also 75 s); shown at 3 (early 55 s) nothing.
        assert raw_levels(states, profile, shown={(0, 1): 1}).level.tolist() == [1]
        assert len(raw_levels(states, profile, shown={(0, 1): 3}).level) == 0

    def test_an_agreement_can_define_well_clear_levels(self, tmp_path):
        text = EXAMPLE.read_text().replace(
            "lookahead_s = 60.0",
            "lookahead_s = 60.0\ntthr_s = 35.0\nearly_lookahead_s = 90.0",
        )
        content = parse_agreement(text.encode()).content
        warning = profile_from_agreement(content).levels[-1]
        assert (warning.tthr_s, warning.keep_lookahead_s) == (35.0, 90.0)
        assert isinstance(warning.detector(PairFilter.ALL), WellClearDetector)

    def test_early_lookahead_cannot_be_shorter(self):
        text = EXAMPLE.read_text().replace(
            "lookahead_s = 60.0", "lookahead_s = 60.0\nearly_lookahead_s = 30.0"
        )
        with pytest.raises(AgreementInvalidError, match="early_lookahead_s"):
            parse_agreement(text.encode())

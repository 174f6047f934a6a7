"""Templates: every body in English and Russian, in aviation units, both texts kept."""

# The Russian texts are Cyrillic, not Latin look-alikes:
# ruff: noqa: RUF001

from __future__ import annotations

import dataclasses
import re
from typing import Any

import pytest

from skypact.errors import ConfigError
from skypact.messaging.model import (
    AlertNotice,
    FreeText,
    IdentificationAnswer,
    IdentificationQuery,
    IdentifiedAircraft,
    Language,
    LinkTest,
    OperationsNotice,
    ZoneEntryNotice,
)
from skypact.messaging.templates import (
    FLIGHT_LEVEL_FROM_FT,
    format_position,
    format_time,
    other_language,
    render,
    render_both,
)

EN, RU = Language.EN, Language.RU
T0 = 1445342400.0  # 2015-10-20 12:00Z
AREA = ((35.5, 36.25), (35.75, 36.5), (35.25, 36.75))


def notice(**changes) -> OperationsNotice:
    fields: dict[str, Any] = {
        "area": AREA,
        "floor_ft": 0.0,
        "ceiling_ft": 25000.0,
        "starts_at_s": T0,
        "ends_at_s": T0 + 4 * 3600.0,
        "description": "",
    }
    return OperationsNotice(**(fields | changes))


def query(**changes) -> IdentificationQuery:
    fields: dict[str, Any] = {
        "lat_deg": 35.5,
        "lon_deg": 36.25,
        "altitude_ft": 21500.0,
        "observed_at_s": T0 + 207.0,
        "radius_nm": 5.0,
    }
    return IdentificationQuery(**(fields | changes))


def answer(*distances_nm: float) -> IdentificationAnswer:
    parties = ("usa", "rus", "gbr")
    return IdentificationAnswer(
        query_id="q-1",
        matches=tuple(
            IdentifiedAircraft(party=p, bloc=None, distance_nm=d)
            for p, d in zip(parties, distances_nm, strict=False)
        ),
    )


class TestFormats:
    @pytest.mark.parametrize(
        ("t_s", "text"),
        [
            (T0, "2015-10-20 12:00Z"),
            (T0 + 207.0, "2015-10-20 12:03:27Z"),
            (T0 + 207.9, "2015-10-20 12:03:27Z"),
            (T0 - 12 * 3600.0, "2015-10-20 00:00Z"),
        ],
    )
    def test_utc_times(self, t_s, text):
        assert format_time(t_s) == text

    @pytest.mark.parametrize(
        ("lat", "lon", "text"),
        [
            (35.5, 36.25, "353000N 0361500E"),
            (33.8688, -70.6693, "335208N 0704009W"),
            (-0.00001, -0.00001, "000000N 0000000E"),  # rounds to the origin
            (-33.5, 151.2, "333000S 1511200E"),
            (35.99999, 38.0, "360000N 0380000E"),  # the seconds carry over
        ],
    )
    def test_icao_positions(self, lat, lon, text):
        assert format_position(lat, lon) == text

    def test_other_language(self):
        assert other_language(EN) is RU
        assert other_language(RU) is EN
        with pytest.raises(ConfigError, match="language"):
            other_language("fr")  # type: ignore[arg-type]


class TestNotification:
    def test_english(self):
        text = render(notice(description="Two-ship patrol"), EN)
        assert text.splitlines() == [
            "NOTIFICATION OF PLANNED OPERATIONS",
            "Area: 353000N 0361500E - 354500N 0363000E - 351500N 0364500E",
            "Lower limit: SFC",
            "Upper limit: FL250",
            "Period: 2015-10-20 12:00Z to 2015-10-20 16:00Z",
            "Remarks: Two-ship patrol",
        ]

    def test_russian(self):
        text = render(notice(floor_ft=5000.0, ceiling_ft=12000.0), RU)
        assert text.splitlines() == [
            "УВЕДОМЛЕНИЕ О ПЛАНИРУЕМЫХ ПОЛЁТАХ",
            "Район: 353000N 0361500E - 354500N 0363000E - 351500N 0364500E",
            "Нижняя граница: 5 000 футов",
            "Верхняя граница: эшелон 120",
            "Время действия: с 2015-10-20 12:00Z до 2015-10-20 16:00Z",
        ]

    @pytest.mark.parametrize(
        ("ceiling_ft", "english", "russian"),
        [
            (FLIGHT_LEVEL_FROM_FT, "FL100", "эшелон 100"),
            (FLIGHT_LEVEL_FROM_FT - 100.0, "9,900 ft", "9 900 футов"),
            (24050.0, "24,050 ft", "24 050 футов"),  # off the 100 ft grid
            (2001.0, "2,001 ft", "2 001 фут"),
            (2002.0, "2,002 ft", "2 002 фута"),
            (2011.0, "2,011 ft", "2 011 футов"),
        ],
    )
    def test_upper_limits(self, ceiling_ft, english, russian):
        body = notice(ceiling_ft=ceiling_ft)
        assert f"Upper limit: {english}" in render(body, EN)
        assert f"Верхняя граница: {russian}" in render(body, RU)

    def test_the_senders_words_are_carried_over_untranslated(self):
        body = notice(description="Патрулирование парой")
        original, translation = render_both(body, RU)
        assert original.endswith("Примечание: Патрулирование парой")
        assert translation is not None
        assert translation.endswith(
            "Remarks (in Russian, not translated): Патрулирование парой"
        )
        _, back = render_both(notice(description="Two-ship patrol"), EN)
        assert back is not None
        assert back.endswith(
            "Примечание (на английском языке, без перевода): Two-ship patrol"
        )


class TestIdentification:
    def test_query_english(self):
        assert render(query(), EN).splitlines() == [
            "IDENTIFICATION QUERY",
            "Contact observed: 2015-10-20 12:03:27Z",
            "Position: 353000N 0361500E",
            "Altitude: 21,500 ft",
            "Search radius: 5 NM",
            "Request: state the affiliation of your aircraft within the radius.",
        ]

    def test_query_russian(self):
        assert render(query(altitude_ft=None, radius_nm=2.5), RU).splitlines() == [
            "ЗАПРОС НА ОПОЗНАВАНИЕ",
            "Воздушный объект обнаружен: 2015-10-20 12:03:27Z",
            "Координаты: 353000N 0361500E",
            "Высота: неизвестна",
            "Радиус поиска: 2,5 морской мили",
            "Прошу сообщить принадлежность ваших воздушных судов"
            " в пределах указанного радиуса.",
        ]

    def test_unknown_altitude_in_english(self):
        assert "Altitude: unknown" in render(query(altitude_ft=None), EN)

    @pytest.mark.parametrize(
        ("radius_nm", "russian"),
        [
            (1.0, "1 морская миля"),
            (3.0, "3 морские мили"),
            (5.0, "5 морских миль"),
            (11.0, "11 морских миль"),
            (21.0, "21 морская миля"),
            (22.0, "22 морские мили"),
            (0.5, "0,5 морской мили"),
            (2.04, "2 морские мили"),  # to the tenth
        ],
    )
    def test_russian_counts_miles_grammatically(self, radius_nm, russian):
        assert f"Радиус поиска: {russian}" in render(query(radius_nm=radius_nm), RU)

    def test_answer_lists_the_nearest_first(self):
        body = IdentificationAnswer(
            query_id="q-1",
            matches=(
                IdentifiedAircraft(party="rus", bloc=None, distance_nm=3.0),
                IdentifiedAircraft(party="usa", bloc="coalition", distance_nm=1.2),
            ),
        )
        assert render(body, EN).splitlines() == [
            "IDENTIFICATION ANSWER",
            "In reply to query: q-1",
            "Aircraft found: 2",
            "1. party usa, bloc coalition, 1.2 NM from the position",
            "2. party rus, 3 NM from the position",
        ]
        assert render(body, RU).splitlines() == [
            "ОТВЕТ НА ЗАПРОС НА ОПОЗНАВАНИЕ",
            "Ответ на запрос: q-1",
            "Найдено воздушных судов: 2",
            "1. сторона usa, блок coalition, расстояние от точки — 1,2 морской мили",
            "2. сторона rus, расстояние от точки — 3 морские мили",
        ]

    def test_no_match_leaves_the_contact_unidentified(self):
        assert render(answer(), EN).splitlines()[-1] == (
            "No declared aircraft within the queried radius:"
            " the contact remains unidentified."
        )
        assert render(answer(), RU).splitlines()[-1] == (
            "Заявленных воздушных судов в пределах радиуса запроса нет:"
            " объект остаётся неопознанным."
        )


class TestZoneEntryNotice:
    BODY = ZoneEntryNotice(
        zone_id="notice-m1", zone_name="training area", owner="rus", party="gbr",
        bloc="coalition", lat_deg=35.5, lon_deg=36.25, altitude_ft=30000.0,
        at_s=T0 + 70.0, notice_id="M1",
    )  # fmt: skip

    def test_to_the_owner_without_the_aircrafts_identity(self):
        original, translation = render_both(self.BODY, EN)
        assert original.splitlines() == [
            "ZONE ENTRY",
            "Zone: notice-m1 (training area), owner rus",
            "Aircraft of party gbr, bloc coalition",
            "Entered: 2015-10-20 12:01:10Z",
            f"Position: {format_position(35.5, 36.25)}",
            "Altitude: 30,000 ft",
            "Zone notified in message M1.",
            "Acknowledge, and act to keep separation.",
        ]
        assert translation is not None
        assert translation.splitlines()[:3] == [
            "ВХОД В ЗОНУ",
            "Зона: notice-m1 (training area), владелец rus",
            "Воздушное судно стороны gbr, блок coalition",
        ]
        assert "Зона объявлена в сообщении M1." in translation

    def test_to_the_aircrafts_own_party_with_its_identity(self):
        own = dataclasses.replace(self.BODY, icao24="43c5a1", callsign="TARTN61")
        assert "Your aircraft: 43c5a1, callsign TARTN61" in render(own, EN)
        assert "Ваше воздушное судно: 43c5a1, позывной TARTN61" in render(own, RU)

    @pytest.mark.parametrize(
        ("changes", "field"),
        [({"zone_id": ""}, "zone_id"), ({"lat_deg": 91.0}, "position"),
         ({"altitude_ft": float("nan")}, "altitude_ft"), ({"owner": " "}, "owner")],
    )  # fmt: skip
    def test_refused(self, changes, field):
        with pytest.raises(ConfigError) as caught:
            dataclasses.replace(self.BODY, **changes)
        assert caught.value.name == field


class TestAlertNotice:
    def test_both_languages(self):
        body = AlertNotice(
            alert_id="a-17",
            level=2,
            parties=frozenset({"usa", "rus"}),
            level_name="caution",
            los_at_s=T0 + 250.0,
        )
        original, translation = render_both(body, EN)
        assert original.splitlines() == [
            "CONFLICT ALERT",
            "Alert: a-17, level 2 (caution)",
            "Parties: rus, usa",
            "Predicted loss of separation: 2015-10-20 12:04:10Z",
            "Acknowledge, and act to keep separation.",
        ]
        assert translation is not None
        assert translation.splitlines() == [
            "ПРЕДУПРЕЖДЕНИЕ О КОНФЛИКТЕ",
            "Оповещение: a-17, уровень 2 (предупреждающий)",
            "Стороны: rus, usa",
            "Прогнозируемое нарушение норм эшелонирования: 2015-10-20 12:04:10Z",
            "Подтвердите получение и примите меры по сохранению интервалов.",
        ]

    @pytest.mark.parametrize(
        ("name", "russian"),
        [
            ("warning", "уровень 3 (аварийный)"),
            ("advisory", "уровень 3 (уведомляющий)"),
            ("red", "уровень 3 («red»)"),
            (None, "уровень 3\n"),
        ],
    )
    def test_level_names_in_russian(self, name, russian):
        body = AlertNotice(
            alert_id="a", level=3, parties=frozenset({"usa"}), level_name=name
        )
        assert russian in render(body, RU)
        assert "Прогнозируемое" not in render(body, RU)
        assert "Predicted" not in render(body, EN)
        assert render(body, EN).splitlines()[1] == (
            "Alert: a, level 3" + ("" if name is None else f" ({name})")
        )


class TestLinkTest:
    def test_both_languages(self):
        original, translation = render_both(LinkTest(nonce="7731"), RU)
        assert original.splitlines() == [
            "ПРОВЕРКА СВЯЗИ",
            "Учебная проверка линии связи по предотвращению инцидентов,"
            " контрольный номер 7731.",
            "Подтвердите получение. Других действий не требуется.",
        ]
        assert translation == (
            "LINK TEST\n"
            "Drill of the deconfliction line, reference 7731.\n"
            "Acknowledge on receipt. No other action required."
        )


class TestFreeText:
    def test_free_text_has_no_translation(self):
        body = FreeText(text="Please call on the secure line.", language=EN)
        original, translation = render_both(body, EN)
        assert original == "MESSAGE\nPlease call on the secure line."
        assert translation is None

    def test_free_text_shown_in_the_other_language_says_so(self):
        body = FreeText(text="Прошу связаться.", language=RU)
        assert render(body, RU) == "СООБЩЕНИЕ\nПрошу связаться."
        assert render(body, EN) == (
            "MESSAGE (in Russian, not translated)\nПрошу связаться."
        )
        english = FreeText(text="Call us.", language=EN)
        assert render(english, RU) == (
            "СООБЩЕНИЕ (на английском языке, без перевода)\nCall us."
        )


_FIGURES = re.compile(r"\d{6}[NS] \d{7}[EW]|\d{4}-\d\d-\d\d \d\d:\d\d(?::\d\d)?Z")


@pytest.mark.parametrize(
    "body",
    [
        notice(),
        query(),
        answer(0.4, 2.0),
        AlertNotice(
            alert_id="a", level=1, parties=frozenset({"usa", "rus"}), los_at_s=T0
        ),
        LinkTest(nonce="x"),
    ],
)
@pytest.mark.parametrize("language", [EN, RU])
def test_the_translation_carries_the_same_positions_and_times(body, language):
    original, translation = render_both(body, language)
    assert translation is not None
    assert original != translation
    assert _FIGURES.findall(original) == _FIGURES.findall(translation)


def test_plain_language_codes_are_accepted_and_others_refused():
    assert render(LinkTest(nonce="x"), "ru").startswith("ПРОВЕРКА СВЯЗИ")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="language"):
        render(LinkTest(nonce="x"), "fr")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="language"):
        render(notice(), EN, source_language="de")  # type: ignore[arg-type]


def test_only_bodies_are_rendered():
    with pytest.raises(TypeError, match="not a message body"):
        render("hello", EN)  # type: ignore[arg-type]

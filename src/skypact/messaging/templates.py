# The Russian templates are Cyrillic text, not Latin look-alikes:
# ruff: noqa: RUF001
"""Message texts in English and Russian, written from templates (no machine translation).

:func:`render` writes a body in one language; :func:`render_both` writes the original
(the sender's language, the authoritative text) and its translation, which the line
keeps side by side, as the hotline keeps both versions of a message.

Conventions, the same in both languages so that the two texts can be checked against
each other figure by figure:

- positions in the ICAO degrees-minutes-seconds form of NOTAMs and AIPs, both languages
  (``353000N 0361500E``);
- times in UTC, ``2015-10-20 12:00Z`` (seconds only when they are not zero);
- altitude limits as flight levels (``FL250``, Russian ``эшелон 250``) from
  :data:`FLIGHT_LEVEL_FROM_FT` up, in feet below it and for values off the 100 ft grid,
  and ``SFC`` (``земля``) for a floor at or below 0 ft;
- distances in nautical miles; Russian numbers with a comma for the decimal point and a
  space between thousands, and the unit's word in the form the number requires
  (1 морская миля, 3 морские мили, 5 морских миль, 2,5 морской мили).

Free text cannot be translated by a template: a free-text message has no translation
(``None``), and text the sender wrote inside another body (a notice's description) is
carried over verbatim and marked as untranslated.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable

from skypact.errors import ConfigError
from skypact.messaging.model import (
    AlertNotice,
    Body,
    FreeText,
    IdentificationAnswer,
    IdentificationQuery,
    IdentifiedAircraft,
    Language,
    LinkTest,
    OperationsNotice,
    ZoneEntryNotice,
)

__all__ = [
    "FLIGHT_LEVEL_FROM_FT",
    "format_position",
    "format_time",
    "other_language",
    "render",
    "render_both",
]

FLIGHT_LEVEL_FROM_FT = 10000.0
"""Altitude limits at or above this are written as flight levels.

Transition altitudes differ from state to state; 10,000 ft keeps every limit at or
above the usual ones a flight level and every lower one an altitude in feet."""

_EN = Language.EN
_RU = Language.RU

_LEVEL_NAMES_RU = {
    # The alerting categories of Russian airworthiness rules (AP-25.1322):
    # аварийная / предупреждающая / уведомляющая сигнализация.
    "warning": "аварийный",
    "caution": "предупреждающий",
    "advisory": "уведомляющий",
}

_LANGUAGE_NAMES = {
    # How each language names the other, in a note on untranslated text.
    (_EN, _RU): "in Russian",
    (_RU, _EN): "на английском языке",
}


def _checked(language: str) -> Language:
    try:
        return Language(language)
    except ValueError:
        raise ConfigError(
            "language", language, f"must be one of {[str(x) for x in Language]}"
        ) from None


def other_language(language: Language) -> Language:
    """The line's other language.

    Raises:
        ConfigError: not a language of the line.
    """
    return _RU if _checked(language) is _EN else _EN


def format_time(t_s: float) -> str:
    """An epoch time as UTC, ``2015-10-20 12:00Z`` (seconds only if not zero).

    Examples:
        >>> format_time(1445342400.0)
        '2015-10-20 12:00Z'
        >>> format_time(1445342607.5)
        '2015-10-20 12:03:27Z'
    """
    at = dt.datetime.fromtimestamp(math.floor(t_s), tz=dt.UTC)
    pattern = "%Y-%m-%d %H:%MZ" if at.second == 0 else "%Y-%m-%d %H:%M:%SZ"
    return at.strftime(pattern)


def _dms(value_deg: float, width: int) -> tuple[str, bool]:
    total = round(abs(value_deg) * 3600.0)
    degrees, rest = divmod(total, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{degrees:0{width}d}{minutes:02d}{seconds:02d}", total > 0 and value_deg < 0


def format_position(lat_deg: float, lon_deg: float) -> str:
    """A position in ICAO degrees-minutes-seconds, to the nearest second.

    Examples:
        >>> format_position(35.5, 36.25)
        '353000N 0361500E'
        >>> format_position(-33.8688, -70.6693)
        '335208S 0704009W'
    """
    lat, south = _dms(lat_deg, 2)
    lon, west = _dms(lon_deg, 3)
    return f"{lat}{'S' if south else 'N'} {lon}{'W' if west else 'E'}"


def _number(value: float, language: Language, decimals: int = 0) -> str:
    text = f"{value:,.{decimals}f}"
    if language is _RU:
        text = text.replace(",", " ").replace(".", ",")
    return text


def _ru_plural(count: int, one: str, few: str, many: str) -> str:
    """The noun form a Russian whole number takes: 1 миля, 2 мили, 5 миль, 11 миль."""
    if 11 <= count % 100 <= 14:
        return many
    if count % 10 == 1:
        return one
    if 2 <= count % 10 <= 4:
        return few
    return many


def _feet(value_ft: float, language: Language) -> str:
    whole = round(value_ft)
    text = _number(whole, language)
    if language is _EN:
        return f"{text} ft"
    return f"{text} {_ru_plural(abs(whole), 'фут', 'фута', 'футов')}"


def _nautical_miles(value_nm: float, language: Language) -> str:
    tenths = round(value_nm * 10.0)
    whole = tenths % 10 == 0
    text = _number(tenths / 10.0, language, 0 if whole else 1)
    if language is _EN:
        return f"{text} NM"
    if not whole:
        return f"{text} морской мили"
    count = tenths // 10
    return f"{text} {_ru_plural(count, 'морская миля', 'морские мили', 'морских миль')}"


def _limit(value_ft: float, language: Language) -> str:
    """A floor or ceiling: surface, flight level or feet."""
    if value_ft <= 0.0:
        return "SFC" if language is _EN else "земля"
    if value_ft >= FLIGHT_LEVEL_FROM_FT and value_ft % 100.0 == 0.0:
        level = round(value_ft / 100.0)
        return f"FL{level:03d}" if language is _EN else f"эшелон {level:03d}"
    return _feet(value_ft, language)


def _untranslated(language: Language, source: Language) -> str:
    if source == language:
        return ""
    if language is _EN:
        return f" ({_LANGUAGE_NAMES[_EN, source]}, not translated)"
    return f" ({_LANGUAGE_NAMES[_RU, source]}, без перевода)"


def _free_text(body: FreeText, language: Language, source: Language) -> list[str]:
    title = "MESSAGE" if language is _EN else "СООБЩЕНИЕ"
    return [title + _untranslated(language, body.language), body.text]


def _notice(body: OperationsNotice, language: Language, source: Language) -> list[str]:
    area = " - ".join(format_position(lat, lon) for lat, lon in body.ring)
    window = (format_time(body.starts_at_s), format_time(body.ends_at_s))
    floor, ceiling = _limit(body.floor_ft, language), _limit(body.ceiling_ft, language)
    if language is _EN:
        lines = [
            "NOTIFICATION OF PLANNED OPERATIONS",
            f"Area: {area}",
            f"Lower limit: {floor}",
            f"Upper limit: {ceiling}",
            f"Period: {window[0]} to {window[1]}",
        ]
        remark = "Remarks"
    else:
        lines = [
            "УВЕДОМЛЕНИЕ О ПЛАНИРУЕМЫХ ПОЛЁТАХ",
            f"Район: {area}",
            f"Нижняя граница: {floor}",
            f"Верхняя граница: {ceiling}",
            f"Время действия: с {window[0]} до {window[1]}",
        ]
        remark = "Примечание"
    if body.description.strip():
        note = _untranslated(language, source)
        lines.append(f"{remark}{note}: {body.description.strip()}")
    return lines


def _query(
    body: IdentificationQuery, language: Language, source: Language
) -> list[str]:
    seen = format_time(body.observed_at_s)
    where = format_position(body.lat_deg, body.lon_deg)
    radius = _nautical_miles(body.radius_nm, language)
    if language is _EN:
        altitude = (
            "unknown" if body.altitude_ft is None else _feet(body.altitude_ft, _EN)
        )
        return [
            "IDENTIFICATION QUERY",
            f"Contact observed: {seen}",
            f"Position: {where}",
            f"Altitude: {altitude}",
            f"Search radius: {radius}",
            "Request: state the affiliation of your aircraft within the radius.",
        ]
    altitude = (
        "неизвестна" if body.altitude_ft is None else _feet(body.altitude_ft, _RU)
    )
    return [
        "ЗАПРОС НА ОПОЗНАВАНИЕ",
        f"Воздушный объект обнаружен: {seen}",
        f"Координаты: {where}",
        f"Высота: {altitude}",
        f"Радиус поиска: {radius}",
        "Прошу сообщить принадлежность ваших воздушных судов"
        " в пределах указанного радиуса.",
    ]


def _match(number: int, match: IdentifiedAircraft, language: Language) -> str:
    distance = _nautical_miles(match.distance_nm, language)
    if language is _EN:
        bloc = "" if match.bloc is None else f", bloc {match.bloc}"
        return f"{number}. party {match.party}{bloc}, {distance} from the position"
    bloc = "" if match.bloc is None else f", блок {match.bloc}"
    return f"{number}. сторона {match.party}{bloc}, расстояние от точки — {distance}"


def _answer(
    body: IdentificationAnswer, language: Language, source: Language
) -> list[str]:
    matches = sorted(body.matches, key=lambda m: (m.distance_nm, m.party))
    listed = [_match(k, m, language) for k, m in enumerate(matches, 1)]
    if language is _EN:
        head = [
            "IDENTIFICATION ANSWER",
            f"In reply to query: {body.query_id}",
        ]
        if not listed:
            return [
                *head,
                "No declared aircraft within the queried radius:"
                " the contact remains unidentified.",
            ]
        return [*head, f"Aircraft found: {len(listed)}", *listed]
    head = [
        "ОТВЕТ НА ЗАПРОС НА ОПОЗНАВАНИЕ",
        f"Ответ на запрос: {body.query_id}",
    ]
    if not listed:
        return [
            *head,
            "Заявленных воздушных судов в пределах радиуса запроса нет:"
            " объект остаётся неопознанным.",
        ]
    return [*head, f"Найдено воздушных судов: {len(listed)}", *listed]


def _alert(body: AlertNotice, language: Language, source: Language) -> list[str]:
    parties = ", ".join(sorted(body.parties))
    los = None if body.los_at_s is None else format_time(body.los_at_s)
    if language is _EN:
        name = "" if body.level_name is None else f" ({body.level_name})"
        lines = [
            "CONFLICT ALERT",
            f"Alert: {body.alert_id}, level {body.level}{name}",
            f"Parties: {parties}",
        ]
        if los is not None:
            lines.append(f"Predicted loss of separation: {los}")
        lines.append("Acknowledge, and act to keep separation.")
        return lines
    if body.level_name is None:
        name = ""
    else:
        name = f" ({_LEVEL_NAMES_RU.get(body.level_name, f'«{body.level_name}»')})"
    lines = [
        "ПРЕДУПРЕЖДЕНИЕ О КОНФЛИКТЕ",
        f"Оповещение: {body.alert_id}, уровень {body.level}{name}",
        f"Стороны: {parties}",
    ]
    if los is not None:
        lines.append(f"Прогнозируемое нарушение норм эшелонирования: {los}")
    lines.append("Подтвердите получение и примите меры по сохранению интервалов.")
    return lines


def _zone_entry(
    body: ZoneEntryNotice, language: Language, source: Language
) -> list[str]:
    seen = format_time(body.at_s)
    where = format_position(body.lat_deg, body.lon_deg)
    altitude = _feet(body.altitude_ft, language)
    if language is _EN:
        bloc = "" if body.bloc is None else f", bloc {body.bloc}"
        lines = [
            "ZONE ENTRY",
            f"Zone: {body.zone_id} ({body.zone_name}), owner {body.owner}",
            f"Aircraft of party {body.party}{bloc}",
        ]
        if body.icao24 is not None:
            callsign = "" if body.callsign is None else f", callsign {body.callsign}"
            lines.append(f"Your aircraft: {body.icao24}{callsign}")
        lines += [f"Entered: {seen}", f"Position: {where}", f"Altitude: {altitude}"]
        if body.notice_id is not None:
            lines.append(f"Zone notified in message {body.notice_id}.")
        lines.append("Acknowledge, and act to keep separation.")
        return lines
    bloc = "" if body.bloc is None else f", блок {body.bloc}"
    lines = [
        "ВХОД В ЗОНУ",
        f"Зона: {body.zone_id} ({body.zone_name}), владелец {body.owner}",
        f"Воздушное судно стороны {body.party}{bloc}",
    ]
    if body.icao24 is not None:
        callsign = "" if body.callsign is None else f", позывной {body.callsign}"
        lines.append(f"Ваше воздушное судно: {body.icao24}{callsign}")
    lines += [f"Вход: {seen}", f"Координаты: {where}", f"Высота: {altitude}"]
    if body.notice_id is not None:
        lines.append(f"Зона объявлена в сообщении {body.notice_id}.")
    lines.append("Подтвердите получение и примите меры по сохранению интервалов.")
    return lines


def _link_test(body: LinkTest, language: Language, source: Language) -> list[str]:
    if language is _EN:
        return [
            "LINK TEST",
            f"Drill of the deconfliction line, reference {body.nonce}.",
            "Acknowledge on receipt. No other action required.",
        ]
    return [
        "ПРОВЕРКА СВЯЗИ",
        "Учебная проверка линии связи по предотвращению инцидентов,"
        f" контрольный номер {body.nonce}.",
        "Подтвердите получение. Других действий не требуется.",
    ]


_WRITERS: dict[type[Body], Callable[..., list[str]]] = {
    FreeText: _free_text,
    OperationsNotice: _notice,
    IdentificationQuery: _query,
    IdentificationAnswer: _answer,
    AlertNotice: _alert,
    ZoneEntryNotice: _zone_entry,
    LinkTest: _link_test,
}


def render(
    body: Body, language: Language, *, source_language: Language | None = None
) -> str:
    """A body's text in one language.

    Args:
        body: what to write.
        language: the language to write it in.
        source_language: the language the sender wrote its own words in (a notice's
            description); when it is not ``language`` they are marked untranslated.
            Defaults to ``language``. A free text always knows its own language.

    Raises:
        TypeError: not a message body.
        ConfigError: not a language of the line.
    """
    try:
        writer = _WRITERS[type(body)]
    except KeyError:
        raise TypeError(f"{type(body).__name__} is not a message body") from None
    language = _checked(language)
    source = language if source_language is None else _checked(source_language)
    return "\n".join(writer(body, language, source))


def render_both(body: Body, language: Language) -> tuple[str, str | None]:
    """The original (in ``language``) and its translation (None for free text).

    Raises:
        TypeError: not a message body.
        ConfigError: not a language of the line.
    """
    original = render(body, language)
    if isinstance(body, FreeText):
        return original, None
    return original, render(body, other_language(language), source_language=language)

"""Time zones: by name or offset, the zone a language implies, and what CST and IST mean here."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from datetime import timezone as fixed_timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from archiver.normalize._safe import collapse, never_raises

# Language (or language-region) to zone, for languages spoken in one zone at heart. Regions
# below win over these; a tag like "en" or "es" alone says nothing about the zone.
_LANGUAGE_ZONES = {
    "zh": "Asia/Shanghai",
    "ja": "Asia/Tokyo",
    "ko": "Asia/Seoul",
    "de": "Europe/Berlin",
    "fr": "Europe/Paris",
    "it": "Europe/Rome",
    "nl": "Europe/Amsterdam",
    "pl": "Europe/Warsaw",
    "cs": "Europe/Prague",
    "sk": "Europe/Bratislava",
    "hu": "Europe/Budapest",
    "ro": "Europe/Bucharest",
    "bg": "Europe/Sofia",
    "el": "Europe/Athens",
    "sv": "Europe/Stockholm",
    "da": "Europe/Copenhagen",
    "nb": "Europe/Oslo",
    "nn": "Europe/Oslo",
    "no": "Europe/Oslo",
    "fi": "Europe/Helsinki",
    "uk": "Europe/Kyiv",
    "ru": "Europe/Moscow",
    "tr": "Europe/Istanbul",
    "he": "Asia/Jerusalem",
    "fa": "Asia/Tehran",
    "hi": "Asia/Kolkata",
    "bn": "Asia/Dhaka",
    "th": "Asia/Bangkok",
    "vi": "Asia/Ho_Chi_Minh",
    "id": "Asia/Jakarta",
    "ms": "Asia/Kuala_Lumpur",
}
# Region to zone, for regions with one zone (or one zone that most of their press uses).
_REGION_ZONES = {
    "cn": "Asia/Shanghai",
    "tw": "Asia/Taipei",
    "hk": "Asia/Hong_Kong",
    "mo": "Asia/Macau",
    "sg": "Asia/Singapore",
    "my": "Asia/Kuala_Lumpur",
    "jp": "Asia/Tokyo",
    "kr": "Asia/Seoul",
    "in": "Asia/Kolkata",
    "th": "Asia/Bangkok",
    "vn": "Asia/Ho_Chi_Minh",
    "ph": "Asia/Manila",
    "id": "Asia/Jakarta",
    "il": "Asia/Jerusalem",
    "ir": "Asia/Tehran",
    "ae": "Asia/Dubai",
    "sa": "Asia/Riyadh",
    "pk": "Asia/Karachi",
    "gb": "Europe/London",
    "uk": "Europe/London",
    "ie": "Europe/Dublin",
    "pt": "Europe/Lisbon",
    "es": "Europe/Madrid",
    "fr": "Europe/Paris",
    "be": "Europe/Brussels",
    "nl": "Europe/Amsterdam",
    "lu": "Europe/Luxembourg",
    "de": "Europe/Berlin",
    "at": "Europe/Vienna",
    "ch": "Europe/Zurich",
    "it": "Europe/Rome",
    "dk": "Europe/Copenhagen",
    "se": "Europe/Stockholm",
    "no": "Europe/Oslo",
    "fi": "Europe/Helsinki",
    "pl": "Europe/Warsaw",
    "cz": "Europe/Prague",
    "gr": "Europe/Athens",
    "tr": "Europe/Istanbul",
    "ua": "Europe/Kyiv",
    "ru": "Europe/Moscow",
    "za": "Africa/Johannesburg",
    "eg": "Africa/Cairo",
    "ng": "Africa/Lagos",
    "ke": "Africa/Nairobi",
    "nz": "Pacific/Auckland",
    "ar": "America/Argentina/Buenos_Aires",
    "co": "America/Bogota",
    "pe": "America/Lima",
    "cl": "America/Santiago",
}
# Chinese scripts without a region: Simplified is the mainland's, Traditional Taiwan's.
_SCRIPT_ZONES = {"zh-hans": "Asia/Shanghai", "zh-hant": "Asia/Taipei"}

# Unambiguous zone abbreviations, in minutes east of UTC (RFC 822's and the common ones).
ABBREVIATIONS = {
    "UT": 0,
    "UTC": 0,
    "GMT": 0,
    "Z": 0,
    "WET": 0,
    "WEST": 60,
    "BST": 60,
    "CET": 60,
    "MET": 60,
    "CEST": 120,
    "MEST": 120,
    "EET": 120,
    "EEST": 180,
    "MSK": 180,
    "EST": -300,
    "EDT": -240,
    "CDT": -300,
    "MST": -420,
    "MDT": -360,
    "PST": -480,
    "PDT": -420,
    "AKST": -540,
    "AKDT": -480,
    "HST": -600,
    "AST": -240,
    "ADT": -180,
    "NST": -210,
    "NDT": -150,
    "BRT": -180,
    "ART": -180,
    "PKT": 300,
    "ICT": 420,
    "WIB": 420,
    "HKT": 480,
    "SGT": 480,
    "AWST": 480,
    "PHT": 480,
    "JST": 540,
    "KST": 540,
    "ACST": 570,
    "AEST": 600,
    "AEDT": 660,
    "NZST": 720,
    "NZDT": 780,
    "SAST": 120,
    "CAT": 120,
    "EAT": 180,
    "WAT": 60,
}
# Zones named without saying standard or daylight time: the region's clock at that date.
GENERIC_ZONES = {
    "ET": "America/New_York",
    "CT": "America/Chicago",
    "MT": "America/Denver",
    "PT": "America/Los_Angeles",
    "AT": "America/Halifax",
}
CHINA_STANDARD_TIME = re.compile(r"中国标准时间|北京时间|China Standard Time|Beijing Time", re.I)


@lru_cache(maxsize=256)
def lookup_zone(name: str) -> tzinfo | None:
    """An IANA zone or a fixed offset (``+08:00``, ``UTC+8``) by name, or None."""
    name = name.strip()
    if not name or len(name) > 64:
        return None
    offset = parse_offset(re.sub(r"^(?:UTC|GMT)(?=[+-])", "", name, flags=re.I))
    if offset is not None:
        return fixed_timezone(timedelta(minutes=offset))
    if name.upper() in {"UTC", "GMT", "Z"}:
        return UTC
    if ".." in name or name.startswith("/"):
        return None
    try:
        return ZoneInfo(name)
    except (ValueError, OSError, KeyError):
        return None


def parse_offset(text: str) -> int | None:
    """Minutes east of UTC for ``+08:00``, ``+0800``, ``+08``, ``-5``; None if not one."""
    match = re.fullmatch(r"([+-])(\d{1,2})(?::?(\d{2}))?", text.strip())
    if not match:
        return None
    hours, minutes = int(match.group(2)), int(match.group(3) or 0)
    if hours > 18 or minutes > 59:
        return None
    return (hours * 60 + minutes) * (-1 if match.group(1) == "-" else 1)


@never_raises(lambda language: None)
def zone_for_language(language: str | None) -> str | None:
    """The IANA zone a language tag implies, or None when it implies none.

    The region decides when there is one (``zh-cn`` -> ``Asia/Shanghai``, ``zh-tw`` ->
    ``Asia/Taipei``, ``en-gb`` -> ``Europe/London``); regions spanning several zones (``us``,
    ``ca``, ``au``, ``br``, ``mx``) give None. Without a region, languages spoken mostly in one
    zone give it (``ja`` -> ``Asia/Tokyo``, ``zh`` -> ``Asia/Shanghai``); ``en``, ``es``,
    ``pt``, ``ar`` give None.
    """
    if not isinstance(language, str):
        return None
    tag = collapse(language[:100]).lower().replace("_", "-")
    tag = re.split(r"[,;\s.]", tag, maxsplit=1)[0]
    if not tag:
        return None
    subtags = tag.split("-")
    regions = [s for s in subtags[1:] if len(s) == 2 and s.isalpha()]
    if regions:
        return _REGION_ZONES.get(regions[0])
    scripted = "-".join(subtags[:2])
    if scripted in _SCRIPT_ZONES:
        return _SCRIPT_ZONES[scripted]
    return _LANGUAGE_ZONES.get(subtags[0])


def cst_offset(timezone: str | None, language: str | None, hint: str) -> int:
    """Minutes east of UTC meant by ``CST`` for this source (see the package docstring)."""
    if CHINA_STANDARD_TIME.search(hint):
        return 480
    zone = lookup_zone(timezone) if timezone else None
    if zone is not None:  # a configured zone where "CST" is the local clock decides
        if getattr(zone, "key", None) == "America/Havana":
            return -300
        standard = zone.utcoffset(datetime(2021, 1, 15))
        if standard == timedelta(hours=8):
            return 480
        if standard == timedelta(hours=-6):
            return -360
    if isinstance(language, str) and language.strip().lower().startswith("zh"):
        return 480
    return -360


def ist_offset(timezone: str | None, language: str | None) -> int:
    """Minutes east of UTC meant by ``IST``: India's, unless the source is Ireland or Israel."""
    zone_name = timezone or zone_for_language(language) or ""
    if zone_name in {"Europe/Dublin", "Eire"}:
        return 60
    if zone_name in {"Asia/Jerusalem", "Asia/Tel_Aviv", "Israel"}:
        return 120
    return 330

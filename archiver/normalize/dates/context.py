"""What one reading of a date knows: its arguments, and what the string revealed."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from datetime import timezone as fixed_timezone
from zoneinfo import ZoneInfo

from archiver.normalize.dates.result import (
    FLAG_AMBIGUOUS_ZONE,
    FLAG_UNKNOWN_ZONE,
    RULE_LANGUAGE,
    RULE_SOURCE,
    RULE_UTC,
)
from archiver.normalize.dates.zones import (
    ABBREVIATIONS,
    GENERIC_ZONES,
    cst_offset,
    ist_offset,
    lookup_zone,
    parse_offset,
    zone_for_language,
)

# The readers' contract: each returns None when the string is not its format, else (datetime,
# kind): an aware datetime with kind "explicit", "relative" or "epoch", or a naive one with
# kind "naive", for parse_date to place in the source's zone.
Reading = tuple[datetime, str]


@dataclass
class ReadingContext:
    """What one call knows: its arguments, and what reading the string revealed."""

    timezone: str | None
    language: str | None
    now: datetime
    hint: str = ""
    explicit: bool = False
    named_zone: tzinfo | None = None
    """An IANA zone the string itself names ("... Etc/GMT", "... Asia/Shanghai")."""
    flags: list[str] | None = None

    def flag(self, name: str) -> None:
        if self.flags is None:
            self.flags = []
        if name not in self.flags:
            self.flags.append(name)

    def zone_named(self, name: str) -> tzinfo | None:
        """The offset a zone name or numeric offset stands for; flags what is odd."""
        name = name.strip()
        numeric = re.sub(r"^(?:UTC|GMT|UT)\s?(?=[+-])", "", name, flags=re.I)
        offset = parse_offset(numeric)
        if offset is None and re.fullmatch(r"[+-]\d+(?::?\d+)?", numeric):
            raise ValueError(f"not a UTC offset: {name}")  # "-99:99": the date is unreadable
        upper = name.upper()
        if upper in GENERIC_ZONES:  # "ET": whatever New York's clocks said then
            self.explicit = True
            return ZoneInfo(GENERIC_ZONES[upper])
        if offset is None and upper == "CST":
            offset = cst_offset(self.timezone, self.language, self.hint)
            self.flag(FLAG_AMBIGUOUS_ZONE)
        elif offset is None and upper == "IST":
            offset = ist_offset(self.timezone, self.language)
            self.flag(FLAG_AMBIGUOUS_ZONE)
        elif offset is None:
            offset = ABBREVIATIONS.get(upper)
        if offset is None:
            self.flag(FLAG_UNKNOWN_ZONE)
            return None
        self.explicit = True
        return UTC if offset == 0 else fixed_timezone(timedelta(minutes=offset))

    def local_zone(self) -> tuple[tzinfo, str]:
        """The zone a naive time is read in, and the rule that chose it."""
        if self.timezone:
            zone = lookup_zone(self.timezone)
            if zone is not None:
                return zone, RULE_SOURCE
        zone_name = zone_for_language(self.language)
        if zone_name:
            zone = lookup_zone(zone_name)
            if zone is not None:
                return zone, RULE_LANGUAGE
        return UTC, RULE_UTC

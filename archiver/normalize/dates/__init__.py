"""Publication dates in any format a feed or page uses, to an aware UTC datetime.

Formats read, in this order: Unix epochs (10 digits: seconds, 13: milliseconds); ISO 8601 /
W3C-DTF (``2021-04-02``, ``2021-04-02T14:27Z``, ``2021-04-02 14:27:15.123+08:00``, compact
``20210402T142715Z``); Chinese and Korean dates (``2021年4月2日 14:27``, ``4月2日 下午2点``,
``2004년 05월 28일``); relative dates in Chinese, Japanese and English (``刚刚``, ``5分钟前``,
``昨天 10:00``, ``2 hours ago``, ``yesterday``), read against the fetch time; then everything
python-dateutil reads (RFC 822 / 1123, asctime and the many English variants), with a table of
zone abbreviations, the generic US zones (``ET``, ``PT``...) and IANA names (``Etc/GMT``).

A date without a zone is read in the source's zone: the configured one, else the one its
language and region imply (:func:`zone_for_language`; Hangul in the string implies Korea), else
UTC; ``ParsedDate.rule`` records which.

**CST** is ambiguous: China Standard Time (+08:00), US Central Standard Time (-06:00) or Cuba
Standard Time (-05:00). We read it as +08:00 when the string itself says China Standard Time
(``GMT+0800 (中国标准时间)``); else as the configured zone's own CST when it has one (a zone at
+08:00 such as Asia/Shanghai or Asia/Taipei: +08:00; at -06:00 such as America/Chicago: -06:00;
America/Havana: -05:00); else as +08:00 for a Chinese language (``zh*``); else as US Central
-06:00, the meaning RFC 822 gives it. ``IST`` likewise is India (+05:30) unless the zone is
Ireland (+01:00) or Israel (+02:00). Such readings carry the flag ``ambiguous-zone``.
"""

from archiver.normalize.dates.parse import parse_date
from archiver.normalize.dates.result import ParsedDate
from archiver.normalize.dates.zones import zone_for_language

__all__ = ["ParsedDate", "parse_date", "zone_for_language"]

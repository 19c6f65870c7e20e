"""How feed elements are named: namespaces to prefixes, each element's key, what keys mean."""

from __future__ import annotations

from functools import lru_cache

from archiver.readers.feeds.common import Element

_XML_NS = "http://www.w3.org/XML/1998/namespace"
XML_BASE = f"{{{_XML_NS}}}base"
XML_LANG = f"{{{_XML_NS}}}lang"
RDF_ABOUT = "{http://www.w3.org/1999/02/22-rdf-syntax-ns#}about"

# Namespace URI (lowercased) -> the prefix an element key gets. "" marks the feed's own
# vocabulary: every published URI of RSS 0.90/0.91/1.0/2.0 and Atom 0.3/1.0 reads the same,
# as in feedparser, so an Atom link inside RSS (or RSS 1.0 in RSS 2.0 clothes) is understood.
_NAMESPACE_PREFIXES: dict[str, str] = {
    "": "",
    "http://backend.userland.com/rss": "",
    "http://backend.userland.com/rss2": "",
    "http://blogs.law.harvard.edu/tech/rss": "",
    "http://purl.org/rss/1.0/": "",
    "http://my.netscape.com/rdf/simple/0.9/": "",
    "http://example.com/newformat#": "",
    "http://example.com/necho": "",
    "http://purl.org/echo/": "",
    "uri/of/echo/namespace#": "",
    "http://purl.org/pie/": "",
    "http://purl.org/atom/ns#": "",
    "http://www.w3.org/2005/atom": "",
    "http://purl.org/rss/1.0/modules/rss091#": "",
    "http://purl.org/dc/elements/1.1/": "dc",
    "http://purl.org/dc/terms/": "dcterms",
    "http://purl.org/rss/1.0/modules/content/": "content",
    "http://search.yahoo.com/mrss": "media",
    "http://search.yahoo.com/mrss/": "media",
    "http://www.itunes.com/dtds/podcast-1.0.dtd": "itunes",
    "http://example.com/dtds/podcast-1.0.dtd": "itunes",
    "http://rssnamespace.org/feedburner/ext/1.0": "feedburner",
    "http://www.w3.org/1999/xhtml": "xhtml",
    "http://www.w3.org/1999/02/22-rdf-syntax-ns#": "rdf",
    "http://www.w3.org/2000/01/rdf-schema#": "rdfs",
    "http://webns.net/mvcb/": "admin",
    "http://purl.org/rss/1.0/modules/syndication/": "sy",
    "http://purl.org/rss/1.0/modules/slash/": "slash",
    "http://purl.org/rss/1.0/modules/taxonomy/": "taxo",
    "http://purl.org/rss/1.0/modules/threading/": "thr",
    "http://wellformedweb.org/commentapi/": "wfw",
    "http://www.georss.org/georss": "georss",
    "http://www.opengis.net/gml": "gml",
    "http://www.w3.org/2003/01/geo/wgs84_pos#": "geo",
    "http://creativecommons.org/ns#license": "cc",
    "http://web.resource.org/cc/": "cc",
    "http://backend.userland.com/creativecommonsrssmodule": "creativecommons",
    "http://podlove.org/simple-chapters": "psc",
    "http://www.w3.org/1999/xlink": "xlink",
    _XML_NS: "xml",
}

# When a recovered document uses a prefix it never declared, lxml keeps "prefix:name" as the
# tag; these conventional prefixes are then read as the namespace they always stand for.
_CONVENTIONAL_PREFIXES = {prefix for prefix in _NAMESPACE_PREFIXES.values() if prefix} | {"atom"}

FEED_ROOTS = {"rss": "rss", "rdf:rdf": "rdf", "feed": "atom", "channel": "rss"}
CONTAINERS = frozenset({"rss", "rdf:rdf", "feed", "channel"})
ENTRY_KEYS = frozenset({"item", "entry"})
TITLE_KEYS = ("title", "dc:title")
PUBLISHED_KEYS = (
    "pubdate",
    "published",
    "issued",
    "dc:date",
    "dcterms:issued",
    "dcterms:created",
    "created",
    "dcterms:date",
)
UPDATED_KEYS = ("updated", "modified", "dcterms:modified")
SUMMARY_KEYS = ("description", "summary", "abstract", "dc:description", "itunes:summary")
CONTENT_KEYS = ("content:encoded", "content", "xhtml:body", "xhtml:div", "body")
AUTHOR_KEYS = frozenset({"author", "dc:creator", "dc:author", "itunes:author"})
MEDIA_RSS_KEYS = frozenset({"media:content", "media:thumbnail", "media:group"})
# Element key -> the slot an entry's reader looks in. Keys sharing a slot are read in document
# order (the first non-empty title, dc:title or not, wins, as in feedparser).
ENTRY_SLOTS: dict[str, str] = {
    "title": "title",
    "dc:title": "title",
    "media:title": "media:title",
    "link": "link",
    "guid": "id",
    "id": "id",
    **dict.fromkeys(AUTHOR_KEYS, "author"),
    **{key: key for key in (*PUBLISHED_KEYS, *UPDATED_KEYS, *SUMMARY_KEYS, *CONTENT_KEYS)},
    "category": "category",
    "dc:subject": "category",
    "language": "language",
    "dc:language": "language",
    "source": "source",
    "enclosure": "media",
    **dict.fromkeys(MEDIA_RSS_KEYS, "media"),
}
HTML_TYPES = frozenset({"html", "xhtml", "text/html", "application/xhtml+xml"})
ALTERNATE_RELS = frozenset({"alternate", "http://www.iana.org/assignments/relation/alternate"})
ENCLOSURE_RELS = frozenset({"enclosure", "http://www.iana.org/assignments/relation/enclosure"})


@lru_cache(maxsize=4096)
def _tag_key(tag: str, has_prefix: bool) -> str:
    if tag.startswith("{"):
        namespace, _, local = tag[1:].partition("}")
        prefix = _NAMESPACE_PREFIXES.get(namespace.lower())
        if prefix is None:
            # An unknown namespace used as the default one is the feed's own vocabulary (as in
            # feedparser); behind an explicit prefix it is an extension we do not read.
            prefix = "?" if has_prefix else ""
    else:
        prefix, _, local = tag.rpartition(":")
        prefix = prefix.lower()
        if prefix == "atom":
            prefix = ""
        elif prefix and prefix not in _CONVENTIONAL_PREFIXES:
            prefix = "?" + prefix
    local = local.lower()
    return f"{prefix}:{local}" if prefix else local


def element_key(element: Element) -> str:
    """``title``, ``dc:creator``, ``media:content``...: what an element is, case-insensitively."""
    tag = element.tag
    if not isinstance(tag, str):  # comments, processing instructions, entity references
        return ""
    return _tag_key(tag, element.prefix is not None)

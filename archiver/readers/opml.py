"""OPML subscription lists, as every feed reader reads and writes them (OPML 2.0)."""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.sax.saxutils import quoteattr

from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type hints

from archiver.errors import ConfigurationError


@dataclass(frozen=True)
class Subscription:
    url: str
    title: str | None = None
    categories: tuple[str, ...] = field(default=())
    """The folders the outline sits in, outermost first, then its ``category`` attribute."""
    site: str | None = None


def parse_opml(data: bytes) -> list[Subscription]:
    """The feeds an OPML document lists, with their folders as categories.

    Any outline with an ``xmlUrl`` counts, however deep; a folder is an outline without one.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, recover=True, huge_tree=False)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise ConfigurationError(f"not an OPML file: {exc}") from exc
    if root is None or etree.QName(root).localname.lower() != "opml":
        raise ConfigurationError("not an OPML file: the root element is not <opml>")
    found: list[Subscription] = []
    body = next((c for c in root if etree.QName(c).localname.lower() == "body"), None)
    if body is not None:
        _walk(body, (), found)
    return found


def _walk(element: etree._Element, folders: tuple[str, ...], found: list[Subscription]) -> None:
    for outline in element:
        if not isinstance(outline.tag, str) or etree.QName(outline).localname != "outline":
            continue
        attributes = {k.lower(): v for k, v in outline.attrib.items() if isinstance(k, str)}
        label = attributes.get("title") or attributes.get("text")
        url = (attributes.get("xmlurl") or "").strip()
        if url:
            own = tuple(
                c.strip().strip("/")
                for c in (attributes.get("category") or "").split(",")
                if c.strip().strip("/")
            )
            found.append(
                Subscription(
                    url=url,
                    title=label,
                    categories=tuple(dict.fromkeys((*folders, *own))),
                    site=attributes.get("htmlurl"),
                )
            )
        _walk(outline, (*folders, label) if label and not url else folders, found)


def write_opml(subscriptions: list[Subscription], title: str = "feed-archiver sources") -> str:
    """An OPML 2.0 document listing *subscriptions*, with their categories as attributes."""
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        '<opml version="2.0">',
        f"  <head><title>{_text(title)}</title></head>",
        "  <body>",
    ]
    for sub in subscriptions:
        attributes = [
            ("type", "rss"),
            ("text", sub.title or sub.url),
            ("title", sub.title or sub.url),
            ("xmlUrl", sub.url),
        ]
        if sub.site:
            attributes.append(("htmlUrl", sub.site))
        if sub.categories:
            attributes.append(("category", ",".join(sub.categories)))
        rendered = " ".join(f"{name}={quoteattr(value)}" for name, value in attributes)
        lines.append(f"    <outline {rendered}/>")
    lines += ["  </body>", "</opml>"]
    return "\n".join(lines) + "\n"


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

"""The format-neutral feed model that every writer in :mod:`tests.mocksite.writers` renders."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Person:
    """An author: RSS writes ``email (name)`` or ``dc:creator``, Atom and JSON Feed objects."""

    name: str
    email: str | None = None
    uri: str | None = None


@dataclass
class Media:
    """An enclosure, ``media:content`` / ``media:thumbnail`` or JSON Feed attachment."""

    url: str
    media_type: str | None = None
    length: int | None = None
    width: int | None = None
    height: int | None = None


@dataclass
class Entry:
    """One item. Dates are raw strings, written exactly as given (quirks included)."""

    title: str | None
    link: str | None = None
    guid: str | None = None
    guid_is_permalink: bool | None = None
    """RSS 2.0 ``isPermaLink``: None leaves the attribute out (meaning true, per the spec)."""
    authors: list[Person] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    published: str | None = None
    updated: str | None = None
    summary: str | None = None
    """HTML."""
    content: str | None = None
    """HTML, the body that must survive byte for byte."""
    content_text: str | None = None
    """JSON Feed ``content_text``."""
    xhtml: bool = False
    """Atom: write the content as ``type="xhtml"`` (an inline div) instead of escaped html."""
    xml_base: str | None = None
    """Atom: an ``xml:base`` on the entry."""
    content_xml_base: str | None = None
    """Atom: an ``xml:base`` on the content element."""
    enclosures: list[Media] = field(default_factory=list)
    media_contents: list[Media] = field(default_factory=list)
    thumbnail: Media | None = None
    image: str | None = None
    """JSON Feed ``image``."""
    banner_image: str | None = None
    comments: str | None = None
    language: str | None = None


@dataclass
class Feed:
    """A feed's channel-level facts and its entries, in document order."""

    title: str
    link: str
    description: str = ""
    self_url: str | None = None
    language: str | None = None
    updated: str | None = None
    """Channel ``lastBuildDate`` / feed ``updated``, raw."""
    ttl: int | None = None
    skip_hours: list[int] = field(default_factory=list)
    image: str | None = None
    generator: str | None = None
    xml_base: str | None = None
    authors: list[Person] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    description_cdata: bool = False
    """RSS: wrap ``<description>`` in CDATA (RSSHub does) instead of escaping it."""
    plain_authors: bool = False
    """RSS: write a bare name in ``<author>`` (RSSHub does) instead of ``dc:creator``."""

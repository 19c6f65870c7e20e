"""Render a :class:`~tests.mocksite.model.Feed` as RSS 0.9x/1.0/2.0, Atom 0.3/1.0 or JSON Feed.

Writers return text; the caller picks the bytes (the encoding feeds need that). HTML bodies go
into CDATA (RSS ``content:encoded``) or are XML-escaped (Atom ``type="html"``), so that after
XML parsing they equal the original string exactly.
"""

from __future__ import annotations

import json
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from tests.mocksite.model import Entry, Feed, Media, Person

NAMESPACES_RSS2 = (
    'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:atom="http://www.w3.org/2005/Atom" '
    'xmlns:media="http://search.yahoo.com/mrss/"'
)


def cdata(text: str) -> str:
    """Wrap in CDATA; a literal ``]]>`` is split across two sections (the only way)."""
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def declaration(encoding: str | None) -> str:
    if encoding is None:
        return '<?xml version="1.0"?>\n'
    return f'<?xml version="1.0" encoding="{encoding}"?>\n'


def _element(name: str, text: str | None, **attributes: str) -> str:
    if text is None:
        return ""
    attrs = "".join(
        f" {key.replace('_', ':')}={quoteattr(value)}" for key, value in attributes.items()
    )
    return f"<{name}{attrs}>{escape(text)}</{name}>"


def _media_attributes(media: Media, kind: str) -> str:
    """Attributes of an RSS ``enclosure`` (url, length, type), an Atom ``link`` (href, type,
    length) or a Media RSS element (url, type, fileSize, width, height)."""
    parts = [f"{'href' if kind == 'atom' else 'url'}={quoteattr(media.url)}"]
    if media.media_type:
        parts.append(f"type={quoteattr(media.media_type)}")
    if media.length is not None:
        parts.append(f'{"fileSize" if kind == "media" else "length"}="{media.length}"')
    if kind == "media" and media.width is not None:
        parts.append(f'width="{media.width}"')
    if kind == "media" and media.height is not None:
        parts.append(f'height="{media.height}"')
    return " ".join(parts)


def _rss_author(person: Person, *, plain: bool) -> str:
    if person.email:
        return _element("author", f"{person.email} ({person.name})")
    if plain:
        return f"<author>{cdata(person.name)}</author>"
    return _element("dc:creator", person.name)


def rss2(feed: Feed, *, encoding: str | None = "utf-8") -> str:
    """RSS 2.0 (https://www.rssboard.org/rss-specification) with content, dc, atom and media."""
    out = [declaration(encoding), f'<rss version="2.0" {NAMESPACES_RSS2}>\n<channel>\n']
    out.append(_element("title", feed.title) + "\n")
    out.append(_element("link", feed.link) + "\n")
    out.append(_element("description", feed.description) + "\n")
    if feed.self_url:
        out.append(
            f'<atom:link href={quoteattr(feed.self_url)} rel="self" type="application/rss+xml"/>\n'
        )
    out.append(_element("language", feed.language))
    out.append(_element("lastBuildDate", feed.updated))
    out.append(_element("generator", feed.generator))
    if feed.ttl is not None:
        out.append(f"<ttl>{feed.ttl}</ttl>")
    if feed.skip_hours:
        out.append(
            "<skipHours>"
            + "".join(f"<hour>{hour}</hour>" for hour in feed.skip_hours)
            + "</skipHours>"
        )
    if feed.image:
        out.append(
            f"<image><url>{escape(feed.image)}</url>"
            f"{_element('title', feed.title)}{_element('link', feed.link)}</image>"
        )
    out.append("\n")
    for entry in feed.entries:
        out.append(
            _rss2_item(
                entry, description_cdata=feed.description_cdata, plain_authors=feed.plain_authors
            )
        )
    out.append("</channel>\n</rss>\n")
    return "".join(out)


def _rss2_item(entry: Entry, *, description_cdata: bool, plain_authors: bool) -> str:
    out = ["<item>\n"]
    out.append(_element("title", entry.title))
    out.append(_element("link", entry.link))
    if entry.guid is not None:
        if entry.guid_is_permalink is None:
            out.append(_element("guid", entry.guid))
        else:
            out.append(
                _element("guid", entry.guid, isPermaLink=str(entry.guid_is_permalink).lower())
            )
    out.append("\n")
    if entry.summary is not None:
        if description_cdata:
            out.append(f"<description>{cdata(entry.summary)}</description>\n")
        else:
            out.append(_element("description", entry.summary) + "\n")
    if entry.content is not None:
        out.append(f"<content:encoded>{cdata(entry.content)}</content:encoded>\n")
    out.extend(_rss_author(person, plain=plain_authors) for person in entry.authors)
    out.extend(_element("category", category) for category in entry.categories)
    out.append(_element("pubDate", entry.published))
    out.append(_element("atom:updated", entry.updated))
    out.append(_element("comments", entry.comments))
    out.extend(
        f"<enclosure {_media_attributes(media, 'enclosure')}/>" for media in entry.enclosures
    )
    out.extend(
        f'<media:content {_media_attributes(media, "media")} medium="image"/>'
        for media in entry.media_contents
    )
    if entry.thumbnail:
        out.append(f"<media:thumbnail {_media_attributes(entry.thumbnail, 'media')}/>")
    out.append("\n</item>\n")
    return "".join(out)


def rss1(feed: Feed, *, encoding: str | None = "utf-8") -> str:
    """RSS 1.0 (https://web.resource.org/rss/1.0/spec): RDF with dc: dates and subjects."""
    about = feed.self_url or feed.link
    resources = [entry.link or entry.guid or "" for entry in feed.entries]
    out = [
        declaration(encoding),
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns="http://purl.org/rss/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/">\n',
        f"<channel rdf:about={quoteattr(about)}>\n",
        _element("title", feed.title),
        _element("link", feed.link),
        _element("description", feed.description),
        _element("dc:language", feed.language),
        _element("dc:date", feed.updated),
        "\n<items><rdf:Seq>",
        "".join(f"<rdf:li rdf:resource={quoteattr(resource)}/>" for resource in resources),
        "</rdf:Seq></items>\n</channel>\n",
    ]
    for entry, resource in zip(feed.entries, resources, strict=True):
        out.append(f"<item rdf:about={quoteattr(resource)}>\n")
        out.append(_element("title", entry.title))
        out.append(_element("link", entry.link))
        out.append(_element("description", entry.summary) + "\n")
        if entry.content is not None:
            out.append(f"<content:encoded>{cdata(entry.content)}</content:encoded>\n")
        out.extend(_element("dc:creator", person.name) for person in entry.authors)
        out.append(_element("dc:date", entry.published))
        out.extend(_element("dc:subject", category) for category in entry.categories)
        out.append("\n</item>\n")
    out.append("</rdf:RDF>\n")
    return "".join(out)


def rss09x(feed: Feed, *, version: str, encoding: str | None = "utf-8") -> str:
    """RSS 0.91 (title, link, escaped description per item) or 0.92 (plus category,
    enclosure, source). Neither has guids, dates per item or full content."""
    out = [declaration(encoding), f'<rss version="{version}">\n<channel>\n']
    out.append(_element("title", feed.title))
    out.append(_element("link", feed.link))
    out.append(_element("description", feed.description))
    out.append(_element("language", feed.language))
    out.append(_element("lastBuildDate", feed.updated) + "\n")
    for entry in feed.entries:
        out.append("<item>")
        out.append(_element("title", entry.title))
        out.append(_element("link", entry.link))
        out.append(_element("description", entry.content or entry.summary))
        if version != "0.91":
            out.extend(_element("category", category) for category in entry.categories)
            out.extend(
                f"<enclosure {_media_attributes(media, 'enclosure')}/>"
                for media in entry.enclosures
            )
            out.append(_element("source", feed.title, url=feed.self_url or feed.link))
        out.append("</item>\n")
    out.append("</channel>\n</rss>\n")
    return "".join(out)


def _atom_person(kind: str, person: Person) -> str:
    return (
        f"<{kind}>{_element('name', person.name)}{_element('email', person.email)}"
        f"{_element('uri', person.uri)}</{kind}>"
    )


def atom10(feed: Feed, *, encoding: str | None = "utf-8") -> str:
    """Atom 1.0 (RFC 4287): ``type="html"`` content escaped, ``type="xhtml"`` inline."""
    base = f" xml:base={quoteattr(feed.xml_base)}" if feed.xml_base else ""
    lang = f" xml:lang={quoteattr(feed.language)}" if feed.language else ""
    out = [
        declaration(encoding),
        f'<feed xmlns="http://www.w3.org/2005/Atom" xmlns:media="http://search.yahoo.com/mrss/"{base}{lang}>\n',
        _element("title", feed.title, type="text"),
        _element("subtitle", feed.description),
        f'<link rel="alternate" type="text/html" href={quoteattr(feed.link)}/>',
    ]
    if feed.self_url:
        out.append(
            f'<link rel="self" type="application/atom+xml" href={quoteattr(feed.self_url)}/>'
        )
    out.append(_element("id", feed.self_url or feed.link))
    out.append(_element("updated", feed.updated))
    out.append(_element("generator", feed.generator))
    if feed.image:
        out.append(_element("logo", feed.image))
    out.extend(_atom_person("author", person) for person in feed.authors)
    out.append("\n")
    for entry in feed.entries:
        out.append(_atom10_entry(entry))
    out.append("</feed>\n")
    return "".join(out)


def _atom10_entry(entry: Entry) -> str:
    base = f" xml:base={quoteattr(entry.xml_base)}" if entry.xml_base else ""
    lang = f" xml:lang={quoteattr(entry.language)}" if entry.language else ""
    out = [f"<entry{base}{lang}>\n", _element("title", entry.title, type="html")]
    if entry.link:
        out.append(f'<link rel="alternate" type="text/html" href={quoteattr(entry.link)}/>')
    out.append(_element("id", entry.guid))
    out.append(_element("published", entry.published))
    out.append(_element("updated", entry.updated))
    out.append("\n")
    out.extend(_atom_person("author", person) for person in entry.authors)
    out.extend(
        f"<category term={quoteattr(term)} label={quoteattr(term)}/>" for term in entry.categories
    )
    out.extend(
        f'<link rel="enclosure" {_media_attributes(media, "atom")}/>' for media in entry.enclosures
    )
    out.extend(
        f'<media:content {_media_attributes(media, "media")} medium="image"/>'
        for media in entry.media_contents
    )
    if entry.thumbnail:
        out.append(f"<media:thumbnail {_media_attributes(entry.thumbnail, 'media')}/>")
    out.append("\n")
    if entry.summary is not None:
        out.append(_element("summary", entry.summary, type="html") + "\n")
    if entry.content is not None:
        content_base = (
            f" xml:base={quoteattr(entry.content_xml_base)}" if entry.content_xml_base else ""
        )
        if entry.xhtml:
            out.append(
                f'<content type="xhtml"{content_base}><div xmlns="http://www.w3.org/1999/xhtml">'
                f"{entry.content}</div></content>\n"
            )
        else:
            out.append(f'<content type="html"{content_base}>{escape(entry.content)}</content>\n')
    out.append("</entry>\n")
    return "".join(out)


def atom03(feed: Feed, *, encoding: str | None = "utf-8") -> str:
    """Atom 0.3 (the 2003 draft): ``issued``/``modified``, ``mode="escaped"|"xml"`` content."""
    lang = f" xml:lang={quoteattr(feed.language)}" if feed.language else ""
    out = [
        declaration(encoding),
        f'<feed version="0.3" xmlns="http://purl.org/atom/ns#" xmlns:dc="http://purl.org/dc/elements/1.1/"{lang}>\n',
        _element("title", feed.title, mode="escaped", type="text/html"),
        _element("tagline", feed.description),
        f'<link rel="alternate" type="text/html" href={quoteattr(feed.link)}/>',
        _element("modified", feed.updated),
        _element("generator", feed.generator),
    ]
    out.extend(_atom_person("author", person) for person in feed.authors)
    out.append("\n")
    for entry in feed.entries:
        out.append("<entry>\n")
        out.append(_element("title", entry.title))
        if entry.link:
            out.append(f'<link rel="alternate" type="text/html" href={quoteattr(entry.link)}/>')
        out.append(_element("id", entry.guid))
        out.append(_element("issued", entry.published))
        out.append(_element("modified", entry.updated))
        out.extend(_atom_person("author", person) for person in entry.authors)
        out.extend(_element("dc:subject", category) for category in entry.categories)
        out.append("\n")
        if entry.summary is not None:
            out.append(_element("summary", entry.summary, type="text/html", mode="escaped") + "\n")
        if entry.content is not None:
            if entry.xhtml:
                out.append(
                    '<content type="application/xhtml+xml" mode="xml">'
                    f'<div xmlns="http://www.w3.org/1999/xhtml">{entry.content}</div></content>\n'
                )
            else:
                out.append(
                    _element("content", entry.content, type="text/html", mode="escaped") + "\n"
                )
        out.append("</entry>\n")
    out.append("</feed>\n")
    return "".join(out)


def _json_person(person: Person) -> dict[str, str]:
    found = {
        "name": person.name,
        "url": person.uri or (f"mailto:{person.email}" if person.email else None),
    }
    return {key: value for key, value in found.items() if value}


def json_feed(feed: Feed, *, version: str = "1.1") -> dict[str, Any]:
    """JSON Feed 1.0 or 1.1 (https://www.jsonfeed.org/version/1.1/) as a dict.

    1.0 has ``author`` objects; 1.1 has ``authors`` lists and ``language``.
    """
    document: dict[str, Any] = {
        "version": f"https://jsonfeed.org/version/{'1' if version == '1.0' else version}",
        "title": feed.title,
        "home_page_url": feed.link,
        "feed_url": feed.self_url,
        "description": feed.description,
    }
    if feed.image:
        document["icon"] = feed.image
    if version != "1.0" and feed.language:
        document["language"] = feed.language
    if feed.authors:
        if version == "1.0":
            document["author"] = _json_person(feed.authors[0])
        else:
            document["authors"] = [_json_person(person) for person in feed.authors]
    items = []
    for entry in feed.entries:
        item: dict[str, Any] = {"id": entry.guid, "url": entry.link, "title": entry.title}
        if entry.content is not None:
            item["content_html"] = entry.content
        if entry.content_text is not None:
            item["content_text"] = entry.content_text
        if entry.summary is not None:
            item["summary"] = entry.summary
        if entry.image:
            item["image"] = entry.image
        if entry.banner_image:
            item["banner_image"] = entry.banner_image
        if entry.published is not None:
            item["date_published"] = entry.published
        if entry.updated is not None:
            item["date_modified"] = entry.updated
        if entry.authors:
            if version == "1.0":
                item["author"] = _json_person(entry.authors[0])
            else:
                item["authors"] = [_json_person(person) for person in entry.authors]
        if entry.categories:
            item["tags"] = list(entry.categories)
        if version != "1.0" and entry.language:
            item["language"] = entry.language
        if entry.enclosures:
            item["attachments"] = [
                {
                    key: value
                    for key, value in (
                        ("url", media.url),
                        ("mime_type", media.media_type),
                        ("size_in_bytes", media.length),
                    )
                    if value is not None
                }
                for media in entry.enclosures
            ]
        items.append({key: value for key, value in item.items() if value is not None})
    document["items"] = items
    return {key: value for key, value in document.items() if value is not None}


def dump_json(document: dict[str, Any]) -> str:
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"

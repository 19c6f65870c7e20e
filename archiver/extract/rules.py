"""Per-site rules: CSS or XPath selectors for where a site keeps its article, as readers have them.

A rule names, for one host and its subdomains, the elements that hold the content, the parts
inside them to remove, and optionally where the title, date and author are. Rules come from
a TOML file (``ARCHIVER_SITE_RULES``), from a source's own selectors (``sources add
--content-selector``), and from :data:`BUILTIN_RULES` for the sites behind the project's own
sources. A selector is CSS unless it starts with ``/``, ``./`` or ``(``, which make it XPath.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from cssselect import GenericTranslator, SelectorError
from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type hints

from archiver.errors import ConfigurationError
from archiver.extract._tree import drop_element, inner_html

_Element = Any
"""An lxml element (lxml has no type hints)."""


@dataclass(frozen=True)
class SiteRule:
    """Where one site keeps its article (every selector a CSS or XPath string)."""

    host: str
    """The host the rule is for; it applies to its subdomains too (``36kr.com`` covers
    ``www.36kr.com``)."""
    content: tuple[str, ...] = ()
    """The elements that hold the article's body, in order; their inner markup is the content."""
    remove: tuple[str, ...] = ()
    """Elements inside the content to leave out (share bars, ads, "related" boxes)."""
    title: str | None = None
    date: str | None = None
    """An element whose ``datetime``/``content`` attribute, else its text, is the date."""
    author: str | None = None
    origin: str = "builtin"
    """Where the rule came from: ``builtin``, ``source``, or the rules file's path."""

    def matches(self, url: str) -> bool:
        """Whether the rule is for the host of *url* (or a parent domain of it)."""
        host = (urlsplit(url).hostname or "").lower()
        return host == self.host or host.endswith("." + self.host)


RULE_MISSED = "matched nothing"
"""What an item's parse error says when a site rule's selectors found nothing on its page."""

BUILTIN_RULES: tuple[SiteRule, ...] = (
    SiteRule(
        host="36kr.com",
        content=(".articleDetailContent",),
        remove=(".article-footer-txt", ".kr-article-tags"),
        title="h1.article-title",
    ),
    SiteRule(
        # WeChat official-account articles: the body is #js_content, its images lazy
        # (data-src), the account's name in #js_name.
        host="mp.weixin.qq.com",
        content=("#js_content",),
        remove=("#js_pc_qr_code", ".qr_code_pc", "#js_tags", ".reward_area"),
        title="#activity-name",
        author="#js_author_name",
    ),
)
"""Rules shipped with the archiver, for the pages behind the seed's sources."""


@dataclass
class RuleResult:
    """What a rule found on a page."""

    rule: SiteRule
    content_html: str | None = None
    """The content elements' inner markup, joined, with the removed parts left out; None when
    the content selectors matched nothing (the site changed: the extractor takes over)."""
    title: str | None = None
    date: str | None = None
    author: str | None = None
    missed: list[str] = field(default_factory=list)
    """Selectors of the rule that matched nothing on this page."""


def load_rules(path: str | Path) -> list[SiteRule]:
    """The rules of a TOML file: one table per host, for example::

        ["example.com"]
        content = "div.post-body"          # or a list of selectors
        remove = [".share", "//aside"]
        title = "h1.headline"              # optional, as are date and author

    Raises ``ConfigurationError`` naming the file and the problem when it cannot be read or
    a selector is not valid CSS or XPath.
    """
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ConfigurationError(f"cannot read the site rules {path}: {error}") from error
    rules = []
    for host, table in data.items():
        if not isinstance(table, Mapping):
            raise ConfigurationError(f"{path}: [{host}] must be a table of selectors")
        rules.append(rule_from_table(host, table, origin=str(path)))
    return rules


def site_rules(path: str | Path | None) -> list[SiteRule]:
    """The rules a crawl uses: those of the file at *path* (``ARCHIVER_SITE_RULES``), if
    any, before the built-in ones."""
    return [*(load_rules(path) if path else ()), *BUILTIN_RULES]


def rule_from_table(host: str, table: Mapping[str, Any], *, origin: str) -> SiteRule:
    """One rule from its table's keys (``content``, ``remove``, ``title``, ``date``,
    ``author``); every selector is compiled once here, so a bad one fails early."""
    try:
        unknown = sorted(set(table) - {"content", "remove", "title", "date", "author"})
        if unknown:
            raise ConfigurationError(f"unknown keys: {', '.join(unknown)}")
        rule = SiteRule(
            host=host.strip().lower().removeprefix("www."),
            content=_selectors(table.get("content")),
            remove=_selectors(table.get("remove")),
            title=_single(table.get("title")),
            date=_single(table.get("date")),
            author=_single(table.get("author")),
            origin=origin,
        )
        for selector in _every_selector(rule):
            compiled(selector)
    except ConfigurationError as error:
        raise ConfigurationError(f"{origin}: [{host}] {error}") from error
    return rule


def source_rule(
    url: str, content: Sequence[str] = (), remove: Sequence[str] = ()
) -> SiteRule | None:
    """The rule a source's own ``--content-selector``/``--remove-selector`` make for its
    articles' host, or None when it has neither."""
    if not content and not remove:
        return None
    host = (urlsplit(url).hostname or "").lower()
    return rule_from_table(
        host, {"content": list(content), "remove": list(remove)}, origin="source"
    )


def rule_for(url: str, rules: Iterable[SiteRule]) -> SiteRule | None:
    """The first rule for the host of *url* among *rules* (the most specific host first)."""
    matching = [rule for rule in rules if rule.matches(url)]
    return max(matching, key=lambda rule: len(rule.host), default=None)


def apply_rule(root: _Element, rule: SiteRule) -> RuleResult:
    """Run *rule* on a parsed HTML page (an lxml tree, changed in place: the removed parts
    are taken out of it). Pure apart from that."""
    result = RuleResult(rule)
    containers = [element for selector in rule.content for element in _select(root, selector)]
    result.missed = [s for s in rule.content if not _select(root, s)]
    for selector in rule.remove:
        for element in _select(root, selector):
            if any(_inside(element, container) for container in containers):
                drop_element(element)
    if rule.content:
        parts = [inner_html(element) for element in _outermost(containers)]
        result.content_html = "".join(parts) if any(p.strip() for p in parts) else None
    for name in ("title", "date", "author"):
        selector = getattr(rule, name)
        if selector is None:
            continue
        found = _select(root, selector)
        if not found:
            result.missed.append(selector)
            continue
        setattr(result, name, _value(found[0], attribute_first=name == "date"))
    return result


@lru_cache(maxsize=256)
def compiled(selector: str) -> etree.XPath:
    """A selector compiled to XPath (CSS through cssselect); ``ConfigurationError`` when it
    is neither valid CSS nor valid XPath."""
    text = selector.strip()
    try:
        if text.startswith(("/", "./", "(")):
            return etree.XPath(text)
        return etree.XPath(GenericTranslator().css_to_xpath(text))
    except (SelectorError, etree.XPathSyntaxError) as error:
        raise ConfigurationError(f"not a CSS or XPath selector: {selector!r} ({error})") from error


def _select(root: _Element, selector: str) -> list[_Element]:
    try:
        found = compiled(selector)(root)
    except etree.XPathEvalError:
        return []
    return [element for element in found if isinstance(getattr(element, "tag", None), str)]


def _selectors(value: object) -> tuple[str, ...]:
    if value is None:
        return ()
    values = [value] if isinstance(value, str) else value
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise ConfigurationError(f"a selector must be a string or a list of strings: {value!r}")
    return tuple(v.strip() for v in values if v.strip())


def _single(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigurationError(f"a selector must be a non-empty string: {value!r}")
    return value.strip()


def _every_selector(rule: SiteRule) -> Iterable[str]:
    yield from rule.content
    yield from rule.remove
    yield from (s for s in (rule.title, rule.date, rule.author) if s)


def _inside(element: _Element, container: _Element) -> bool:
    return element is container or any(a is container for a in element.iterancestors())


def _outermost(elements: list[_Element]) -> list[_Element]:
    """The elements not inside another of them, in document order, each once."""
    unique = list({id(e): e for e in elements}.values())
    kept = [e for e in unique if not any(a in unique for a in e.iterancestors())]
    order = {id(e): i for i, e in enumerate(kept[0].getroottree().iter())} if kept else {}
    return sorted(kept, key=lambda e: order.get(id(e), 0))


def _value(element: _Element, *, attribute_first: bool) -> str | None:
    if attribute_first:
        for attribute in ("datetime", "content", "title"):
            if value := (element.get(attribute) or "").strip():
                return value
    text = " ".join("".join(element.itertext()).split())
    return text or None

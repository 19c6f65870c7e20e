"""Importing existing Hexo, Jekyll and Hugo posts into the archive.

A post (YAML front-matter between ``---`` lines, or TOML between ``+++`` for Hugo; an HTML or
Markdown body) becomes an archived article of a source of kind ``import``: one source per
category path (``新媒体/36kr/资讯``), whose categories are the post's, so a Hexo export puts
the post back where it was. Values are kept as written beside their normalized form: the
date string (``Invalid Date`` included) in ``published_raw``, the title in ``title_raw``, the
author in ``authors_raw``. An author that is one of the post's categories (the seed's
``author: 36kr``) names the source, not a person: it becomes the source's title, and the
article has no authors. Images that are files beside the post or in the site are copied into
the media directory; remote ones are recorded, not fetched. Importing again is idempotent:
a post is identified by its path below ``_posts``/``content``.
"""

from __future__ import annotations

import functools
import gc
import hashlib
import html
import logging
import os
import re
import shutil
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from archiver.errors import ArchiverError
from archiver.export.frontmatter import unescape_braces
from archiver.export.hexo import BODY_END, BODY_START
from archiver.items import ArticleItem, ImageRef

if TYPE_CHECKING:
    from archiver.normalize.dates import ParsedDate
    from archiver.storage import Archive

logger = logging.getLogger(__name__)

POST_SUFFIXES = frozenset((".md", ".markdown", ".html", ".htm"))
IMAGE_SUFFIXES = frozenset((".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".avif", ".bmp"))
SITE_MARKERS = (("source/_posts", "hexo"), ("_posts", "jekyll"), ("content", "hugo"))


class PostError(ArchiverError):
    """A file could not be read as a post."""


@dataclass
class Post:
    """One post file as read: front-matter values as written (dates stay strings), body."""

    path: Path
    relative: str
    """The path below ``source/_posts``, ``_posts`` or ``content`` (or the given directory)."""
    site_format: str
    """``hexo``, ``jekyll``, ``hugo``, or ``post`` when the layout says nothing."""
    site_root: Path | None
    """Where root-relative image paths (``/images/a.png``) are looked up."""
    front_matter: dict[str, Any]
    body: str
    front_matter_format: str = "yaml"


@dataclass
class ImportReport:
    files: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    images_copied: int = 0
    images_remote: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)


# -- reading --------------------------------------------------------------------------------


def find_posts(paths: Iterable[str | Path]) -> Iterator[tuple[Path, Path]]:
    """Every post file under *paths* (files or directories), sorted, each with the path it was
    found under."""
    for given in paths:
        base = Path(given)
        if base.is_file():
            yield base, base.parent
        elif base.is_dir():
            for found in _post_files(base):
                yield found, base
        else:
            raise PostError(f"{given}: no such file or directory")


def _post_files(directory: Path) -> Iterator[Path]:
    """The post files below *directory* in the order of ``sorted(directory.rglob("*"))``
    (each directory's entries sorted, depth first), without hidden files and directories
    and without following links to directories, as ``rglob`` does; one ``scandir`` per
    directory (sorting ``Path`` objects costs more than reading the tree)."""
    try:
        with os.scandir(directory) as scan:
            entries = sorted(scan, key=lambda entry: os.path.normcase(entry.name))
    except PermissionError:
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path = directory / entry.name
        if entry.is_dir(follow_symlinks=False):
            yield from _post_files(path)
        elif os.path.splitext(entry.name)[1].lower() in POST_SUFFIXES and entry.is_file():
            yield path


def read_post(path: Path, base: Path | None = None) -> Post:
    """Read *path* as a post; raises PostError when it has no front-matter."""
    try:
        text = path.read_text("utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise PostError(f"{path}: {exc}") from exc
    front, body, kind = split_front_matter(text)
    if front is None:
        raise PostError(f"{path}: no front-matter")
    data = parse_front_matter(front, kind)
    relative, site_format, site_root = _locate(path, base)
    if site_format == "post" and kind == "toml":
        site_format = "hugo"
    return Post(path, relative, site_format, site_root, data, body, kind)


_YAML_FRONT = re.compile(r"\A\s*?(?:\n|^)---[ \t]*\n(.*?\n)?---[ \t]*(?:\n|\Z)", re.DOTALL)
_TOML_FRONT = re.compile(r"\A\s*?(?:\n|^)\+\+\+[ \t]*\n(.*?\n)?\+\+\+[ \t]*(?:\n|\Z)", re.DOTALL)


def split_front_matter(text: str) -> tuple[str | None, str, str]:
    """(front-matter text, body, ``yaml``/``toml``); the body starts right after the closing
    line, byte for byte. Blank lines before the opening ``---`` are allowed (the seed's posts
    begin with one)."""
    for pattern, kind in ((_YAML_FRONT, "yaml"), (_TOML_FRONT, "toml")):
        match = pattern.match(text)
        if match:
            return match.group(1) or "", text[match.end() :], kind
    return None, text, ""


def parse_front_matter(text: str, kind: str = "yaml") -> dict[str, Any]:
    """The front-matter's values; dates stay the strings they were written as."""
    if kind == "toml":
        import tomllib

        try:
            table: dict[str, Any] = _stringify_dates(tomllib.loads(text))
            return table
        except tomllib.TOMLDecodeError as exc:
            raise PostError(f"front-matter is not TOML: {exc}") from exc
    import yaml  # type: ignore[import-untyped,unused-ignore]

    try:
        data: Any = yaml.load(text, Loader=_loader())  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        raise PostError(f"front-matter is not YAML: {_first_line(str(exc))}") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise PostError("front-matter is not a mapping")
    return {str(k): v for k, v in data.items()}


_LOADER: Any = None


def _loader() -> Any:
    """PyYAML's SafeLoader without the timestamp resolver: ``date: 2021-04-02 10:00`` stays
    the string it was written as (the raw value), and is read by our own date parser."""
    global _LOADER  # noqa: PLW0603 - built once, lazily, so importing this module needs no YAML
    if _LOADER is None:
        import yaml  # type: ignore[import-untyped,unused-ignore]

        base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

        class RawDateLoader(base):  # type: ignore[misc,valid-type]
            pass

        RawDateLoader.yaml_implicit_resolvers = {
            first: [
                (tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"
            ]
            for first, resolvers in base.yaml_implicit_resolvers.items()
        }
        _LOADER = RawDateLoader
    return _LOADER


def _stringify_dates(value: Any) -> Any:
    from datetime import date, time

    if isinstance(value, dict):
        return {str(k): _stringify_dates(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_stringify_dates(v) for v in value]
    if isinstance(value, date | time):
        return value.isoformat()
    return value


def _locate(path: Path, base: Path | None) -> tuple[str, str, Path | None]:
    parts = _resolve(path).as_posix()
    for marker, site_format in SITE_MARKERS:
        needle = f"/{marker}/"
        index = parts.rfind(needle)
        if index >= 0:
            root = Path(parts[:index])
            site_root = root / "source" if site_format == "hexo" else root
            if site_format == "hugo":
                site_root = root / "static"
            return parts[index + len(needle) :], site_format, site_root
    if base is not None:
        return _resolve(path).relative_to(_resolved_dir(str(base))).as_posix(), "post", base
    return path.name, "post", path.parent


def _resolve(path: Path) -> Path:
    """``path.resolve()``, with its directory resolved once for all the files in it (an
    import resolves every post's path: a system call per component otherwise)."""
    if path.is_symlink():
        return path.resolve()
    return _resolved_dir(str(path.parent)) / path.name


@functools.lru_cache(maxsize=4096)
def _resolved_dir(directory: str) -> Path:
    return Path(directory).resolve()


# -- posts into items -------------------------------------------------------------------------


def _text_values(value: Any) -> list[str]:
    """A front-matter value as a flat list of strings (Hexo allows nested category lists)."""
    if value is None:
        return []
    if isinstance(value, list | tuple):
        out: list[str] = []
        for item in value:
            out.extend(_text_values(item))
        return out
    text = str(value).strip()
    return [text] if text else []


def _first(data: dict[str, Any], *keys: str) -> str | None:
    for key in keys:
        values = _text_values(data.get(key))
        if values:
            return values[0]
    return None


def post_body_html(post: Post) -> tuple[str, str | None]:
    """(the body as HTML, its Markdown source or None). The seed's ``<div>`` wrapper and
    its ``{``/``}`` escapes are taken off (the Hexo export puts them back)."""
    body = post.body
    if body.startswith(BODY_START) and body.endswith(BODY_END):
        return unescape_braces(body[len(BODY_START) : -len(BODY_END)]), None
    stripped = body.strip()
    if post.path.suffix.lower() in (".html", ".htm") or stripped.startswith("<"):
        return unescape_braces(stripped), None
    return markdown_to_html(stripped), stripped


def post_to_item(
    post: Post,
    *,
    timezone: str | None = None,
) -> tuple[ArticleItem, list[str], str | None, dict[str, Any]]:
    """The article a post holds, its source's categories, the source's label (an author that
    only names the source), and what to keep in ``articles.raw["import"]``."""
    from archiver.normalize.people import parse_authors
    from archiver.normalize.text import (
        clean_terms,
        clean_title,
        detect_language,
        html_to_text,
        make_summary,
    )

    data = post.front_matter
    categories = _text_values(data.get("categories") or data.get("category"))
    tags = _text_values(data.get("tags") or data.get("tag"))
    content_html, markdown = post_body_html(post)
    text = html_to_text(content_html)
    # The opening is enough to tell the language, and costs a fraction of the whole text.
    language = detect_language(_first(data, "lang", "language"), text[:2000])
    title_raw = _first(data, "title") or post.path.stem
    authors_raw = _text_values(data.get("author") or data.get("authors"))
    folded = {c.casefold() for c in categories}
    label = None
    if len(authors_raw) == 1 and authors_raw[0].casefold() in folded:
        label = authors_raw[0]  # the seed's `author: 36kr`: the source's name, not a person
    published_raw = _first(data, "date", "published", "pubDate")
    updated_raw = _first(data, "updated", "lastmod", "modified")
    published = _read_date(published_raw, timezone, language)
    updated = _read_date(updated_raw, timezone, language)
    link = _first(data, "link", "source_url", "original_url", "canonical_url", "url", "permalink")
    absolute = link if link and urlsplit(link).scheme in ("http", "https") else None
    url = absolute or f"import:{post.site_format}/{post.relative}"
    headimg = _first(data, "headimg", "cover", "image", "featured_image", "thumbnail")
    thumbnail = _first(data, "thumbnail")
    item = ArticleItem(
        url=url,
        source_url=source_url_for(post.site_format, categories, post),
        source_kind="import",
        title_raw=title_raw,
        authors_raw=authors_raw,
        published_raw=published_raw,
        updated_raw=updated_raw,
        content_html=content_html,
        categories_raw=categories,
        language_raw=_first(data, "lang", "language"),
        source_categories=categories,
        source_timezone=timezone,
        key=post.relative,
        title=clean_title(title_raw),
        authors=[] if label else parse_authors(authors_raw),
        published=published.value,
        updated=updated.value,
        timezone_rule=published.rule,
        date_flags=list(published.flags),
        categories=clean_terms(categories),
        tags=clean_terms(tags),
        canonical_url=absolute,
        summary=make_summary(None, text),
        content_text=text,
        headimg=headimg or None,
        thumbnail=thumbnail or None,
        language=language,
    )
    raw = {
        "format": post.site_format,
        "path": post.relative,
        "front_matter": {k: _plain(v) for k, v in data.items()},
    }
    if markdown is not None:
        raw["markdown"] = markdown
    return item, categories, label, raw


def _read_date(raw: str | None, timezone: str | None, language: str | None) -> ParsedDate:
    """The date as :func:`archiver.normalize.dates.parse_date` reads it; the two forms posts
    mostly carry (RFC 1123 with its zone, as in the seed, and ISO 8601 with an offset) are
    read directly, which is what makes a bulk import fast."""
    from email.utils import parsedate_to_datetime

    from archiver.normalize.dates import ParsedDate, parse_date

    if raw:
        text = raw.strip()
        try:
            if text[:3].isalpha() and text[3:5] == ", " and text.endswith(("GMT", "+0000")):
                value = parsedate_to_datetime(text)
            elif len(text) >= 19 and text[10] == "T" and (text[-6] in "+-" or text[-1] == "Z"):
                value = datetime.fromisoformat(text.replace("Z", "+00:00"))
            else:
                value = None
        except (TypeError, ValueError, IndexError):
            value = None
        if value is not None and value.tzinfo is not None and 1990 <= value.year <= 2100:
            return ParsedDate(value.astimezone(UTC), raw, "explicit")
    return parse_date(raw, timezone=timezone, language=language)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def source_url_for(site_format: str, categories: Sequence[str], post: Post) -> str:
    """One source per category path (or per site directory when a post has none)."""
    if categories:
        return f"import:{site_format}/" + "/".join(categories)
    site = post.site_root.name if post.site_root else post.path.parent.name
    return f"import:{site_format}/{site or 'posts'}"


# -- images ---------------------------------------------------------------------------------

_IMG_SRC = re.compile(r"""<img\b[^>]*?\ssrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)


def post_images(post: Post, item: ArticleItem, media_dir: Path) -> tuple[list[ImageRef], int]:
    """The post's images: local files copied into *media_dir* (downloaded), remote ones
    recorded as not fetched. Returns them and how many files were copied."""
    refs: list[ImageRef] = []
    copied = 0
    sources: list[tuple[str, str]] = [
        (html.unescape(next(g for g in m.groups() if g is not None)), "body")
        for m in _IMG_SRC.finditer(item.content_html or "")
    ]
    if item.headimg:
        sources.append((item.headimg, "headimg"))
    if item.thumbnail and item.thumbnail != item.headimg:
        sources.append((item.thumbnail, "thumbnail"))
    seen: set[str] = set()
    for position, (written, role) in enumerate(sources):
        src = written.strip()
        if not src or src.startswith("data:") or src in seen:
            continue
        seen.add(src)
        scheme = urlsplit(src).scheme
        if scheme in ("http", "https"):
            refs.append(
                ImageRef(
                    url=src,
                    src=src,
                    position=position,
                    role=role,
                    status="skipped",
                    error="remote image, not fetched on import",
                )
            )
            continue
        local = _local_file(post, src)
        if local is None:
            continue
        ref, was_copied = _archive_file(local, src, position, role, media_dir)
        refs.append(ref)
        copied += was_copied
    return refs, copied


def _local_file(post: Post, src: str) -> Path | None:
    path = unquote(urlsplit(src).path)
    if not path or PurePosixPath(path).suffix.lower() not in IMAGE_SUFFIXES:
        return None
    candidates = []
    if path.startswith("/"):
        if post.site_root is not None:
            candidates.append(post.site_root / path.lstrip("/"))
    else:
        candidates += [post.path.parent / path, post.path.parent / post.path.stem / path]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    return None


def _archive_file(
    local: Path, src: str, position: int, role: str, media_dir: Path
) -> tuple[ImageRef, int]:
    from archiver.media.paths import image_path

    data = local.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    extension = local.suffix.lstrip(".").lower() or "bin"
    relative = image_path(sha256, extension)
    target = media_dir / relative
    copied = 0
    if not target.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(local, target)
        copied = 1
    media_type = {"jpg": "image/jpeg", "svg": "image/svg+xml"}.get(extension, f"image/{extension}")
    ref = ImageRef(
        url=local.resolve().as_uri(),
        src=src,
        position=position,
        role=role,
        sha256=sha256,
        path=relative,
        media_type=media_type,
        size=len(data),
        status="downloaded",
    )
    return ref, copied


# -- the import -----------------------------------------------------------------------------


@dataclass
class _Parsed:
    """One file, read and normalized (in a worker process for big imports)."""

    path: str
    item: ArticleItem | None = None
    categories: list[str] = field(default_factory=list)
    label: str | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    copied: int = 0
    error: str | None = None


def _parse_file(path: Path, base: Path, timezone: str | None, media: Path) -> _Parsed:
    try:
        post = read_post(path, base)
        item, categories, label, raw = post_to_item(post, timezone=timezone)
    except PostError as exc:
        return _Parsed(str(path), error=str(exc))
    item.images, copied = post_images(post, item, media)
    return _Parsed(str(path), item, categories, label, raw, copied)


def _parse_files(
    files: Sequence[tuple[Path, Path]], timezone: str | None, media: Path
) -> list[_Parsed]:
    return [_parse_file(path, base, timezone, media) for path, base in files]


PARALLEL_FROM = 1000
"""Imports of at least this many files read and normalize them in worker processes."""

CHUNK = 64
"""Files a reader process is handed at a time."""

BATCH_SIZE = 5000
"""Articles written in one transaction by an import."""

BATCH_CHARS = 20_000_000
"""...or fewer, when their HTML and text come to this many characters (long posts)."""

MAX_READERS = 4
"""Reader processes by default (one per CPU up to this): the writer takes about as long
per post as a reader, so more would only wait."""

EAGER_BATCH = 1000
"""...or as few as this, when the readers are behind (at the start): the writer writes
what is read instead of waiting for a whole batch."""

READER_NICENESS = 10
"""How far a reader process stands back for the writer (``nice``)."""


def _parsed_files(
    files: list[tuple[Path, Path]],
    timezone: str | None,
    media: Path,
    workers: int,
    ahead: int = BATCH_SIZE,
) -> Iterator[_Parsed | None]:
    """The files read, in their order; by *workers* processes when there are many, which
    keep reading up to *ahead* files beyond the one the writer is at (while it writes a
    batch), so that memory stays bounded however many files there are. ``None`` says the
    readers are behind: what comes next is not read yet."""
    if workers < 1 or len(files) < PARALLEL_FROM:
        for path, base in files:
            yield _parse_file(path, base, timezone, media)
        return
    import multiprocessing
    from collections import deque
    from concurrent.futures import Future, ProcessPoolExecutor

    chunks: Iterator[list[tuple[Path, Path]]] = (
        files[start : start + CHUNK] for start in range(0, len(files), CHUNK)
    )
    # spawn, not fork: the caller may hold threads (a crawl's pool) and database handles.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=context, initializer=_reader_priority
    ) as pool:
        pending: deque[Future[list[_Parsed]]] = deque()
        for chunk in chunks:
            pending.append(pool.submit(_parse_files, chunk, timezone, media))
            if len(pending) * CHUNK >= ahead + workers * CHUNK:
                break
        while pending:
            if not pending[0].done():
                yield None
            done = pending.popleft().result()
            following = next(chunks, None)
            if following is not None:
                pending.append(pool.submit(_parse_files, following, timezone, media))
            yield from done


def _reader_priority() -> None:
    """A reader process yields the CPU to the writer: the writer is the one that cannot be
    split across processes, and readers sharing its core equally would slow it by a third."""
    if hasattr(os, "nice"):
        os.nice(READER_NICENESS)


def import_posts(
    archive: Archive,
    paths: Iterable[str | Path],
    *,
    media_dir: str | Path | None = None,
    timezone: str | None = None,
    batch_size: int = BATCH_SIZE,
    workers: int | None = None,
) -> ImportReport:
    """Import every post under *paths* into *archive*; a post that cannot be read is
    reported in ``failed`` and the others go on. Big imports read the files in *workers*
    processes (default: one per CPU, at most :data:`MAX_READERS`; 0 reads them in this
    process) while this one writes, up to *batch_size* articles a transaction."""
    report = ImportReport()
    media = Path(media_dir) if media_dir else Path("media")
    files = list(find_posts(paths))
    _resolved_dir.cache_clear()  # directories may have moved since the last import
    if workers is None:
        workers = min(os.cpu_count() or 1, MAX_READERS)
    writer = _Writer(archive, report, batch_size)
    with _collector_paused():
        for parsed in _parsed_files(files, timezone, media, workers, ahead=batch_size):
            if parsed is None:  # the readers are behind: write what is read, not wait
                if len(writer.batch) >= EAGER_BATCH:
                    writer.flush()
                continue
            report.files += 1
            if parsed.item is None:
                report.failed.append((parsed.path, parsed.error or "unreadable"))
                continue
            writer.add(parsed)
        writer.flush()
    return report


class _Writer:
    """The articles read, written a batch (one transaction) at a time."""

    def __init__(self, archive: Archive, report: ImportReport, batch_size: int) -> None:
        self.archive = archive
        self.report = report
        self.batch_size = batch_size
        self.sources: dict[str, int] = {}
        self.batch: list[tuple[ArticleItem, int, str]] = []
        self.extras: list[dict[str, Any]] = []
        self.chars = 0

    def add(self, parsed: _Parsed) -> None:
        """Add a post that was read (``parsed.item`` set); write the batch when it is full."""
        item = parsed.item
        assert item is not None
        report = self.report
        report.images_copied += parsed.copied
        report.images_remote += sum(1 for i in item.images if i.status == "skipped")
        source_id = self.sources.get(item.source_url)
        if source_id is None:
            record = self.archive.sources.ensure(
                item.source_url,
                kind="import",
                name=_source_name(self.archive, parsed.categories, item.source_url),
                categories=parsed.categories,
                title=parsed.label,
            )
            source_id = self.sources[item.source_url] = record.id
            report.sources.append(record.name)
        self.batch.append((item, source_id, item.key or item.url))
        self.extras.append(parsed.raw)
        self.chars += len(item.content_html or "") + len(item.content_text or "")
        if len(self.batch) >= self.batch_size or self.chars >= BATCH_CHARS:
            self.flush()

    def flush(self) -> None:
        if not self.batch:
            return
        extras = [{"import": e} for e in self.extras]
        for result in self.archive.bulk.store(self.batch, raw_extras=extras):
            setattr(self.report, result.outcome, getattr(self.report, result.outcome) + 1)
        self.batch.clear()
        self.extras.clear()
        self.chars = 0
        gc.collect(1)  # the young generations, while the collector is paused


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for the import, the young generations
    collected after each batch instead (``_Writer.flush``): with thousands of posts
    alive at once, its automatic full collections cost the writer a tenth of its time."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _source_name(archive: Archive, categories: Sequence[str], url: str) -> str | None:
    """``新媒体/36kr/资讯`` when no other source has that name; else let the archive pick."""
    name = "/".join(categories)[:190]
    if not name or any(s.name == name and s.url != url for s in archive.sources.all()):
        return None
    return name


# -- Markdown, minimally ----------------------------------------------------------------------


def markdown_to_html(text: str) -> str:
    """Common Markdown as HTML: headings, paragraphs, lists, quotes, fenced code, images,
    links, emphasis and inline code; HTML blocks pass through. Enough to archive and search a
    post; the source is kept beside it (``raw["import"]["markdown"]``)."""
    out: list[str] = []
    lines = text.splitlines()
    index = 0
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            out.append(f"<p>{_inline(' '.join(paragraph))}</p>")
            paragraph.clear()

    while index < len(lines):
        line = lines[index]
        stripped = line.strip()
        fence = re.match(r"(```|~~~)\s*([\w+-]*)", stripped)
        if fence:
            flush()
            code: list[str] = []
            index += 1
            while index < len(lines) and not lines[index].strip().startswith(fence.group(1)):
                code.append(lines[index])
                index += 1
            language = f' class="language-{fence.group(2)}"' if fence.group(2) else ""
            out.append(f"<pre><code{language}>{html.escape(chr(10).join(code))}</code></pre>")
        elif not stripped:
            flush()
        elif heading := re.match(r"(#{1,6})\s+(.*?)\s*#*$", stripped):
            flush()
            level = len(heading.group(1))
            out.append(f"<h{level}>{_inline(heading.group(2))}</h{level}>")
        elif re.match(r"[-*+]\s+|\d+[.)]\s+", stripped):
            flush()
            ordered = bool(re.match(r"\d", stripped))
            tag = "ol" if ordered else "ul"
            items: list[str] = []
            while index < len(lines) and re.match(r"\s*(?:[-*+]|\d+[.)])\s+", lines[index]):
                items.append(re.sub(r"\s*(?:[-*+]|\d+[.)])\s+", "", lines[index], count=1))
                index += 1
            out.append(f"<{tag}>" + "".join(f"<li>{_inline(i)}</li>" for i in items) + f"</{tag}>")
            continue
        elif stripped.startswith(">"):
            flush()
            quoted: list[str] = []
            while index < len(lines) and lines[index].strip().startswith(">"):
                quoted.append(lines[index].strip()[1:].lstrip())
                index += 1
            out.append(f"<blockquote>{markdown_to_html(chr(10).join(quoted))}</blockquote>")
            continue
        elif stripped.startswith("<"):
            flush()
            out.append(line)
        else:
            paragraph.append(stripped)
        index += 1
    flush()
    return "\n".join(out)


def _inline(text: str) -> str:
    parts = re.split(r"(`[^`]+`)", text)
    rendered = []
    for piece in parts:
        part = piece
        if part.startswith("`") and part.endswith("`") and len(part) > 1:
            rendered.append(f"<code>{html.escape(part[1:-1])}</code>")
            continue
        part = re.sub(
            r"!\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"([^\"]*)\")?\s*\)",
            lambda m: f'<img src="{html.escape(m.group(2))}" alt="{html.escape(m.group(1))}">',
            part,
        )
        part = re.sub(
            r"\[([^\]]+)\]\(\s*<?([^)\s>]+)>?(?:\s+\"([^\"]*)\")?\s*\)",
            lambda m: f'<a href="{html.escape(m.group(2))}">{m.group(1)}</a>',
            part,
        )
        part = re.sub(
            r"\*\*(.+?)\*\*|__(.+?)__",
            lambda m: f"<strong>{m.group(1) or m.group(2)}</strong>",
            part,
        )
        part = re.sub(r"(?<![*\w])\*(?!\s)(.+?)(?<!\s)\*(?!\*)", r"<em>\1</em>", part)
        rendered.append(part)
    return "".join(rendered)


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else text

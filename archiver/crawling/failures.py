"""Why a request failed, in words: a line for a source's error text, a short code for an image."""

from __future__ import annotations

from typing import TYPE_CHECKING

from scrapy.exceptions import IgnoreRequest

from archiver.crawling.guard import LocalFileRefused, PrivateAddressRefused

if TYPE_CHECKING:
    from twisted.python.failure import Failure

_FAILURE_CLASSES: tuple[tuple[str, frozenset[str]], ...] = (
    ("timeout", frozenset({"DownloadTimeoutError", "TimeoutError", "TCPTimedOutError"})),
    ("dns", frozenset({"CannotResolveHostError", "DNSLookupError"})),
    (
        "connection-refused",
        frozenset({"DownloadConnectionRefusedError", "ConnectionRefusedError"}),
    ),
    ("truncated", frozenset({"ResponseDataLossError", "_DataLoss"})),
    (
        "connection-lost",
        frozenset({"ConnectionLost", "ConnectionDone", "ResponseFailed", "ResponseNeverReceived"}),
    ),
)
"""Download errors (Scrapy's and Twisted's names for them) and the reason they record."""


def describe_failure(failure: Failure) -> str:
    """One line that says why a request failed: the HTTP status, or the network error."""
    from scrapy.spidermiddlewares.httperror import HttpError

    value = failure.value
    if isinstance(value, HttpError):
        response = value.response
        return f"HTTP {response.status} from {response.url}"
    text = str(value).strip() or type(value).__name__
    return f"{type(value).__name__}: {text}".splitlines()[0]


def download_failure_reason(
    exc: BaseException | None, *, size_limited: bool, max_bytes: int, max_redirects: int
) -> tuple[str, str]:
    """``(reason, detail)`` for a download error: a short code (``timeout``, ``dns``,
    ``connection-refused``, ``truncated``, ``connection-lost``, ``redirect-loop``,
    ``too-large``, ``private-address``, ``local-file``, ``filtered``, else
    ``download-error``) and what the error said.

    ``size_limited`` says the request had a size limit (``download_maxsize``), whose
    breach some download handlers report only as a cancelled download; ``max_bytes`` and
    ``max_redirects`` are the limits named in the details.
    """
    text = str(exc) if exc is not None else ""
    if isinstance(exc, PrivateAddressRefused):
        return "private-address", text
    if isinstance(exc, LocalFileRefused):
        return "local-file", text
    if isinstance(exc, IgnoreRequest):
        if "max redirections" in text:
            return "redirect-loop", f"more than {max_redirects} redirects"
        return "filtered", text or "request ignored"
    names = {cls.__name__ for cls in type(exc).__mro__}
    cancelled = any(name.endswith("CancelledError") for name in names)
    if "max size" in text or (cancelled and size_limited):
        return "too-large", f"cut off after {max_bytes} bytes"
    for reason, classes in _FAILURE_CLASSES:
        if names & classes:
            return reason, text
    return "download-error", f"{type(exc).__name__}: {text}".rstrip(": ")

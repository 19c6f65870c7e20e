"""What keeps the reader safe to open: the headers on every answer, the access token, and
which addresses it may listen on.

Every answer carries a Content-Security-Policy that allows no script at all, images and
styles from the reader itself only (an archived body cannot load anything from elsewhere,
nor run anything), ``nosniff``, ``Referrer-Policy: no-referrer`` and no framing. With a token
(``ARCHIVER_SERVE_TOKEN``) every request but the login page needs it, as a bearer token or
the login cookie; the cookie holds an HMAC of the token, never the token itself.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Awaitable, Callable, Iterable

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from archiver.errors import ConfigurationError

TOKEN_VARIABLE = "ARCHIVER_SERVE_TOKEN"  # noqa: S105 -- the variable's name, not a secret
COOKIE = "archiver_session"
OPEN_PATHS = frozenset(("/login", "/static/style.css", "/static/icon.svg", "/favicon.ico"))
"""What answers without the token: the login form and the style it is drawn with."""


def content_security_policy(frame_hosts: Iterable[str] = ()) -> str:
    """The reader's CSP: nothing but its own images and styles; *frame_hosts* are the
    video hosts whose iframes the sanitizer keeps (``ARCHIVER_IFRAME_HOSTS``)."""
    frames = " ".join(f"https://{host} https://*.{host}" for host in sorted(frame_hosts))
    return "; ".join(
        (
            "default-src 'none'",
            "img-src 'self' data:",
            "style-src 'self'",
            "form-action 'self'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            f"frame-src {frames}" if frames else "frame-src 'none'",
        )
    )


def safety_headers(frame_hosts: Iterable[str] = ()) -> dict[str, str]:
    """The headers every answer carries."""
    return {
        "Content-Security-Policy": content_security_policy(frame_hosts),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Cross-Origin-Resource-Policy": "same-origin",
    }


def is_loopback(host: str) -> bool:
    """Whether *host* (as ``--host`` names it) is this machine only."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def check_listen(host: str, *, token: str | None, public: bool) -> None:
    """Refuse a non-loopback *host* unless a token protects it or *public* says so."""
    if is_loopback(host) or token or public:
        return
    raise ConfigurationError(
        f"--host {host} would show the archive to the network: set {TOKEN_VARIABLE} "
        "(an access token) or pass --public"
    )


def session_value(token: str) -> str:
    """What the login cookie holds for *token*: an HMAC of it, so the cookie never carries
    the token itself."""
    return hmac.new(token.encode(), b"archiver-serve-session", hashlib.sha256).hexdigest()


def authorized(request: Request, token: str) -> bool:
    """Whether *request* carries *token* (bearer) or the login cookie made from it."""
    header = request.headers.get("authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), token.encode()):
        return True
    cookie = request.cookies.get(COOKIE, "")
    return hmac.compare_digest(cookie.encode(), session_value(token).encode())


Next = Callable[[Request], Awaitable[Response]]


class Guard:
    """The middleware: the token (when there is one), then the safety headers on the
    answer, whatever it is (errors and ``304`` included)."""

    def __init__(self, token: str | None, frame_hosts: Iterable[str] = ()) -> None:
        self.token = token or None
        self.headers = safety_headers(frame_hosts)

    async def __call__(self, request: Request, call_next: Next) -> Response:
        if (
            self.token
            and request.url.path not in OPEN_PATHS
            and not authorized(request, self.token)
        ):
            response = self.refuse(request)
        else:
            response = await call_next(request)
        for name, value in self.headers.items():
            response.headers.setdefault(name, value)
        return response

    @staticmethod
    def refuse(request: Request) -> Response:
        """401 for the API and feeds (with ``WWW-Authenticate``), the login page for a
        browser."""
        path = request.url.path
        if path.startswith(("/api/", "/feed.", "/media/", "/openapi")):
            return Response(
                '{"error": "this archive needs its access token (Authorization: Bearer ...)"}',
                status_code=401,
                media_type="application/json",
                headers={"WWW-Authenticate": 'Bearer realm="archiver"'},
            )
        return RedirectResponse("/login", status_code=303)

"""The console's guards: the session cookie, the CSRF check, and the headers every page carries.

- The session cookie is HttpOnly (no script reads it), SameSite=Strict (no other site's page
  sends it), and Secure whenever the console is reached over TLS.
- Every form carries the session's CSRF token; a POST without the right one changes nothing.
  Sign-in has no session yet, so its form is tied to a random cookie instead (double submit):
  another site cannot sign a browser into an account of its choosing.
- The Content-Security-Policy allows only the console's own scripts and styles: even if text
  from a peer were ever written into a page unescaped, a browser would not run it.
"""

from __future__ import annotations

import hmac
import secrets

from starlette.requests import Request
from starlette.responses import Response

SIGNIN_PATH = "/signin"


def session_cookie(party: str) -> str:
    """Per node: a browser keys cookies by host, not port, so two consoles on one machine (the
    demo's, or two tunnels to localhost) would otherwise overwrite each other's sign-in."""
    return f"hotline_session_{party}"


def signin_cookie(party: str) -> str:
    return f"hotline_signin_{party}"


CSRF_FIELD = "csrf"

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_session_cookie(response: Response, request: Request, name: str, session_id: str) -> None:
    response.set_cookie(name, session_id, httponly=True, samesite="strict", secure=secure(request), path="/")


def clear_session_cookie(response: Response, request: Request, name: str) -> None:
    response.delete_cookie(name, httponly=True, samesite="strict", secure=secure(request), path="/")


def new_signin_token() -> str:
    return secrets.token_urlsafe(32)


def set_signin_cookie(response: Response, request: Request, name: str, token: str) -> None:
    response.set_cookie(
        name, token, httponly=True, samesite="strict", secure=secure(request), path=SIGNIN_PATH, max_age=3600
    )


def signin_token_matches(request: Request, name: str, submitted: str | None) -> bool:
    expected = request.cookies.get(name)
    return bool(expected and submitted) and hmac.compare_digest(str(expected).encode(), str(submitted).encode())


def harden(response: Response) -> None:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers.setdefault("Cache-Control", "no-store")  # a signed-out browser's back button shows nothing

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

SESSION_COOKIE = "hotline_session"
SIGNIN_COOKIE = "hotline_signin"
CSRF_FIELD = "csrf"

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_session_cookie(response: Response, request: Request, session_id: str) -> None:
    response.set_cookie(SESSION_COOKIE, session_id, httponly=True, samesite="strict", secure=secure(request), path="/")


def clear_session_cookie(response: Response, request: Request) -> None:
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="strict", secure=secure(request), path="/")


def new_signin_token() -> str:
    return secrets.token_urlsafe(32)


def set_signin_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        SIGNIN_COOKIE, token, httponly=True, samesite="strict", secure=secure(request), path="/signin", max_age=3600
    )


def signin_token_matches(request: Request, submitted: str | None) -> bool:
    expected = request.cookies.get(SIGNIN_COOKIE)
    return bool(expected and submitted) and hmac.compare_digest(str(expected).encode(), str(submitted).encode())


def harden(response: Response) -> None:
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers.setdefault("Cache-Control", "no-store")  # a signed-out browser's back button shows nothing

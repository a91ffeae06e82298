"""The security headers of every response: no sniffing, no framing, no caching of answers, HSTS over
HTTPS, and each HTML page's Content-Security-Policy (loosened just enough for the two documentation pages)."""

import base64
import hashlib
import re

from flask import Flask, Response, request

# A year, this host only: subdomains may still serve plain HTTP, and preloading is a deployment's choice.
HSTS = "max-age=31536000"
# What every HTML page may do: load from this origin only, never be framed, post forms only here.
PAGE_POLICY = {
    "default-src": "'self'",
    "base-uri": "'none'",
    "object-src": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}
# The documentation pages' endpoints: ours, and flask-smorest's ReDoc (its "api-docs" blueprint).
SWAGGER_UI_PAGE = "docs.swagger_ui"
REDOC_PAGE = "api-docs.openapi_redoc"
# What the two documentation pages need besides: their libraries style widgets inline (ReDoc's
# styled-components add <style> elements as it renders), the stylesheets' icons are data: URLs,
# and ReDoc's search runs in a Worker made from a blob.
DOCS_PAGE_POLICY = {
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
    "worker-src": "'self' blob:",
}
INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def page_policy(endpoint: str | None, response: Response) -> str:
    """The Content-Security-Policy of an HTML response."""
    directives = dict(PAGE_POLICY)
    if endpoint in (SWAGGER_UI_PAGE, REDOC_PAGE):
        directives.update(DOCS_PAGE_POLICY)
        # Swagger UI's page starts the bundle from an inline script made from configuration alone
        # (no request data): allowing exactly its hash allows no other inline script.
        directives["script-src"] = " ".join(["'self'", *inline_script_hashes(response.get_data(as_text=True))])
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def inline_script_hashes(html: str) -> list[str]:
    """CSP hash sources (``'sha256-...'``) of the inline scripts of ``html``."""
    return [f"'sha256-{base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()}'"
            for body in INLINE_SCRIPT.findall(html)]


def register_security_headers(app: Flask) -> None:
    """Set the headers below on every response the app sends."""

    @app.after_request
    def set_security_headers(response: Response) -> Response:
        """Headers that keep browsers from sniffing, framing, caching or running more than the page needs."""
        headers = response.headers
        present = {name.lower() for name, _ in headers.items()}  # one pass: werkzeug's `in` raises per miss
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        # The site's own pages see where a visitor came from; no other site learns a page's address.
        headers["Referrer-Policy"] = "same-origin"
        if request.is_secure:  # https here, or at a trusted proxy (X-Forwarded-Proto); never over plain HTTP
            headers["Strict-Transport-Security"] = HSTS
        # Token answers and profiles must not stay in caches; files (send_file marks them) keep their validators.
        if "cache-control" not in present and not response.direct_passthrough:
            headers["Cache-Control"] = "no-store"
        if response.mimetype == "text/html" and "content-security-policy" not in present:
            headers["Content-Security-Policy"] = page_policy(request.endpoint, response)
        return response

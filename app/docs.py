"""Swagger UI and ReDoc assets, served from installed packages so /docs and /redoc work offline,
and the Content-Security-Policy of every HTML page, loosened just enough for those two."""

import base64
import hashlib
import re
from importlib.metadata import distribution
from pathlib import Path

from flask import Blueprint, Response, abort, send_from_directory

# (distribution, folder inside it) for each documentation page's static files.
ASSETS = {
    "swagger": ("flask-openapi3-swagger", "flask_openapi3_swagger/templates/swagger"),
    "redoc": ("flask-openapi3-redoc", "flask_openapi3_redoc/templates/redoc"),
}
# The files the pages load; anything else in those folders is not served.
SERVED = {
    "swagger": {"swagger-ui.css": "css", "swagger-ui-bundle.js": "js", "swagger-ui-standalone-preset.js": "js"},
    "redoc": {"redoc.standalone.js": "js"},
}

blp = Blueprint("docs_assets", __name__, url_prefix="/docs/assets")


def asset_folder(page: str) -> Path:
    """Where the installed package keeps ``page``'s files (found without importing the package)."""
    dist_name, folder = ASSETS[page]
    return Path(distribution(dist_name).locate_file(folder))


@blp.get("/<any(swagger, redoc):page>/<filename>")
def asset(page: str, filename: str):
    subfolder = SERVED[page].get(filename)
    if subfolder is None:
        abort(404)
    return send_from_directory(asset_folder(page) / subfolder, filename, max_age=86400)


# What every HTML page may do: load from this origin only, never be framed, post forms only here.
PAGE_POLICY = {
    "default-src": "'self'",
    "base-uri": "'none'",
    "object-src": "'none'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}
# flask-smorest's page endpoints (its "api-docs" blueprint).
SWAGGER_UI_PAGE = "api-docs.openapi_swagger_ui"
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

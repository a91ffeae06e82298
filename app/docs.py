"""Swagger UI and ReDoc assets, served from installed packages so /docs and /redoc work offline."""

from importlib.metadata import distribution
from pathlib import Path

from flask import Blueprint, abort, send_from_directory

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

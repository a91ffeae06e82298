"""Swagger UI and ReDoc assets, served from installed packages so /docs and /redoc work offline;
Agora's Swagger UI page; the 401 answers documented on every operation that reads a token; and
the Content-Security-Policy of every HTML page, loosened just enough for the two documentation pages."""

import base64
import hashlib
import re
from importlib.metadata import distribution
from pathlib import Path

from apispec import BasePlugin
from flask import Blueprint, Response, abort, render_template_string, send_from_directory, url_for

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


# --- the Swagger UI page ------------------------------------------------------------------------

# flask-smorest's page (same assets, same configuration), plus one Swagger UI plugin. Swagger UI draws
# a padlock on every operation whose security names a scheme, also when an empty requirement makes
# it optional (``[{}, {"bearerAuth": []}]``); it draws none for ``[{}]`` alone. The plugin shows
# optional-auth operations as Swagger UI shows ``[{}]``: only the drawing changes, the document keeps
# the truth and requests still carry the token the person authorized with.
SWAGGER_UI_TEMPLATE = """<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <title>{{ title }}</title>
    <link href="{{ assets_url }}swagger-ui.css" rel="stylesheet" type="text/css">
  </head>
  <body>
    <div id="swagger-ui-container"></div>
    <script src="{{ assets_url }}swagger-ui-standalone-preset.js"></script>
    <script src="{{ assets_url }}swagger-ui-bundle.js"></script>
    <script>
      function OptionalAuthUnlocked() {
        function isEmpty(requirement) { return requirement.isEmpty(); }
        return {wrapComponents: {OperationSummary: function (Original, system) {
          return function (props) {
            var operation = props.operationProps;
            var security = operation && operation.get("security");
            if (security && security.size > 1 && security.some(isEmpty)) {
              var anonymous = security.filter(isEmpty).take(1);
              props = Object.assign({}, props, {operationProps: operation.set("security", anonymous)});
            }
            return system.React.createElement(Original, props);
          };
        }}};
      }
      var config = Object.assign({url: {{ spec_url | tojson }}, dom_id: "#swagger-ui-container"},
                                 {{ config | tojson }}, {plugins: [OptionalAuthUnlocked]});
      window.onload = function () { window.ui = SwaggerUIBundle(config); };
    </script>
  </body>
</html>
"""


def swagger_ui_page(*, title: str, spec_endpoint: str, assets_url: str, config: dict) -> str:
    """Swagger UI on the document at ``spec_endpoint``, configured by ``OPENAPI_SWAGGER_UI_CONFIG``."""
    return render_template_string(SWAGGER_UI_TEMPLATE, title=title, spec_url=url_for(spec_endpoint),
                                  assets_url=assets_url, config=config)


# --- 401 on every operation that reads a token --------------------------------------------------

BEARER_SCHEME = "bearerAuth"
# The 401 answers of app.auth.tokens: code -> (when, the message the server sends).
TOKEN_ERRORS = {
    "authorization_required": ("No token was sent", "Send an access token: Authorization: Bearer <token>."),
    "invalid_token": ("The token is malformed, forged, of the wrong type or names no user",
                      "The token is not valid: Signature verification failed."),
    "token_expired": ("The token has expired: get a new one with `POST /api/v1/auth/refresh`",
                      "The token has expired: refresh it or log in again."),
    "token_revoked": ("The token was logged out, or the password or email changed since it was issued",
                      "The token was revoked: log in again."),
}
# Response components: flask-smorest's own name for 401 (given Agora's codes), and optional auth's.
TOKEN_REQUIRED_RESPONSE = "UNAUTHORIZED"
TOKEN_REFUSED_RESPONSE = "TOKEN_REFUSED"
OPTIONAL_AUTH_NOTE = ("**Authentication is optional.** Without a token this answers anonymously; with one "
                      "(Authorize), it answers as that user. A token that is sent must be valid, or the answer is 401.")


def token_error_responses(error_schema) -> dict[str, dict]:
    """The two 401 responses, by component name: for operations that need a token, and that only accept one."""
    refused = {code: why for code, why in TOKEN_ERRORS.items() if code != "authorization_required"}
    return {
        TOKEN_REQUIRED_RESPONSE: token_error_response(error_schema, "No valid token", TOKEN_ERRORS),
        TOKEN_REFUSED_RESPONSE: token_error_response(
            error_schema, "A token was sent and refused (without one, the operation answers anonymously)", refused),
    }


def token_error_response(error_schema, title: str, errors: dict) -> dict:
    """A 401 response listing ``errors`` (code -> (when, message)), with one example of each."""
    reasons = "\n".join(f"- `{code}`: {when}" for code, (when, _) in errors.items())
    return {
        "description": f"{title}:\n\n{reasons}",
        "content": {"application/json": {
            "schema": error_schema,
            "examples": {code: {"summary": when.split(":")[0],
                                "value": {"error": {"status": 401, "code": code, "message": message}}}
                         for code, (when, message) in errors.items()},
        }},
    }


class TokenErrorsPlugin(BasePlugin):
    """Documents 401, with its codes, on every operation whose security names the bearer scheme.

    An operation with optional auth (an empty requirement besides the scheme) answers 401 only to a
    token sent and refused, and its description says that auth is optional. A 401 the route documents
    itself is kept. Every operation's responses are put in status order, for the reader.
    """

    def operation_helper(self, path=None, operations=None, **kwargs):
        for operation in (operations or {}).values():
            security = operation.get("security") or []
            responses = operation.setdefault("responses", {})
            if any(BEARER_SCHEME in requirement for requirement in security):
                optional = {} in security
                if not any(str(status) == "401" for status in responses):
                    responses["401"] = TOKEN_REFUSED_RESPONSE if optional else TOKEN_REQUIRED_RESPONSE
                if optional:
                    operation["description"] = "\n\n".join(filter(None, [operation.get("description"),
                                                                           OPTIONAL_AUTH_NOTE]))
            operation["responses"] = dict(sorted(responses.items(), key=lambda item: status_order(item[0])))


def status_order(status) -> tuple[int, str]:
    """Numeric statuses in order, then ``default`` and anything else."""
    text = str(status)
    return (int(text), "") if text.isdigit() else (1000, text)

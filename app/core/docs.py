"""Swagger UI and ReDoc assets, served from installed packages so /docs and /redoc work offline;
Agora's Swagger UI page; the error answers documented on every operation that can give them (400, 413 and 415 where a body is; 400 ``invalid_cursor`` on lists; 414, 431 and 503); JSON Schema
keywords apispec cannot derive; OpenAPI links between operations; and the Content-Security-Policy of
every HTML page, loosened just enough for the two documentation pages."""

import base64
import hashlib
import re
from importlib.metadata import distribution
from pathlib import Path

from apispec import BasePlugin
from flask import Blueprint, Response, abort, current_app, render_template_string, send_from_directory, url_for

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

# Swagger UI's page and the two pages' files; flask-smorest serves /openapi.json and /redoc.
blp = Blueprint("docs", __name__)


def asset_folder(page: str) -> Path:
    """Where the installed package keeps ``page``'s files (found without importing the package)."""
    dist_name, folder = ASSETS[page]
    return Path(distribution(dist_name).locate_file(folder))


@blp.get("/docs/assets/<any(swagger, redoc):page>/<filename>")
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


@blp.get("/docs")
def swagger_ui():
    """Swagger UI on /openapi.json, configured by ``OPENAPI_SWAGGER_UI_CONFIG``."""
    config = current_app.config
    return render_template_string(SWAGGER_UI_TEMPLATE, title=config["API_TITLE"],
                                  spec_url=url_for("api-docs.openapi_json"),
                                  assets_url=config["SWAGGER_UI_ASSETS_URL"], config=config["OPENAPI_SWAGGER_UI_CONFIG"])


# --- the errors every operation of a kind can answer ---------------------------------------------

# Response components: (status, code, when) of the errors app/__init__.py and app/core answer before a
# route runs, or whatever the route, and the operations that can give them.
REQUEST_ERRORS = {
    "MALFORMED_JSON": (400, "malformed_json", "The body is not JSON (or nests too deep, or has a number too long)"),
    "INVALID_CURSOR": (400, "invalid_cursor", "`cursor` is not a `next_cursor` this API issued"),
    "PAYLOAD_TOO_LARGE": (413, "payload_too_large", "The body is over 256 KiB"),
    "UNSUPPORTED_MEDIA_TYPE": (415, "unsupported_media_type",
                               "A body was sent that is not `application/json` (also where the operation takes none)"),
    "URI_TOO_LONG": (414, "uri_too_long",
                     "The request line is over gunicorn's `limit_request_line` (4094 bytes by default)"),
    "HEADERS_TOO_LARGE": (431, "headers_too_large",
                          "Over 100 headers, or one over 8190 bytes (gunicorn's `limit_request_fields` and "
                          "`limit_request_field_size`)"),
    "SERVICE_UNAVAILABLE": (503, "service_unavailable",
                            "The database or Redis is unreachable: try again after `Retry-After` seconds"),
}
VALIDATION_RESPONSE = "UNPROCESSABLE_ENTITY"  # flask-smorest's name, on every operation that takes arguments
VALIDATION_DESCRIPTION = ("`validation_error`: a value breaks the schema (missing, unknown or repeated field or "
                          "parameter, wrong type, out of range, too long, text without NUL expected), with "
                          "the messages by field in `fields`")
BODY_METHODS = ("post", "put", "patch")


def error_response(error_schema, status: int, code: str, when: str) -> dict:
    return {
        "description": f"`{code}`: {when}",
        "content": {"application/json": {
            "schema": error_schema,
            "example": {"error": {"status": status, "code": code, "message": when.split(":")[0] + "."}},
        }},
    }


def request_error_responses(error_schema) -> dict[str, dict]:
    responses = {name: error_response(error_schema, *error) for name, error in REQUEST_ERRORS.items()}
    responses[VALIDATION_RESPONSE] = {
        "description": VALIDATION_DESCRIPTION,
        "content": {"application/json": {"schema": error_schema, "example": {"error": {
            "status": 422, "code": "validation_error", "message": "The request is not valid.",
            "fields": {"email": ["Not a valid email address."]}}}}},
    }
    return responses


class RequestErrorsPlugin(BasePlugin):
    """Documents the errors an operation can answer besides those it declares (``Blueprint.operation``).

    - 415 on every POST, PUT and PATCH (a non-JSON body is refused, also where none is read); 400
      ``malformed_json`` and 413 where the operation reads a body.
    - 400 ``invalid_cursor`` where a ``cursor`` parameter is read.
    - 414 and 431 on every ``/api/v1`` operation (gunicorn's limits, answered as JSON by
      ``app.core.serving``), and 503 (each reads the database or Redis).

    A response the route documents itself for the same status is kept, its description completed.
    Every operation's responses are put in status order, for the reader.
    """

    def operation_helper(self, path=None, operations=None, **kwargs):
        for method, operation in (operations or {}).items():
            responses = operation.setdefault("responses", {})
            extra = []
            if method in BODY_METHODS:
                extra.append("UNSUPPORTED_MEDIA_TYPE")
                if "requestBody" in operation:
                    extra += ["MALFORMED_JSON", "PAYLOAD_TOO_LARGE"]
            if any(parameter.get("name") == "cursor" and parameter.get("in") == "query"
                   for parameter in operation.get("parameters", [])):
                extra.append("INVALID_CURSOR")
            if (path or "").startswith("/api/v1/"):
                # gunicorn's limits hold for every request (app.core.serving answers them as JSON).
                extra += ["URI_TOO_LONG", "HEADERS_TOO_LARGE", "SERVICE_UNAVAILABLE"]
            for name in extra:
                add_response(responses, name)
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "query" and isinstance(parameter.get("schema"), dict):
                    # A query parameter is absent or has a value: webargs' load_default=None is no "null".
                    parameter["schema"].pop("nullable", None)
                    if parameter["schema"].get("default", 0) is None:
                        del parameter["schema"]["default"]
            operation["responses"] = dict(sorted(responses.items(), key=lambda item: status_order(item[0])))


def add_response(responses: dict, name: str) -> None:
    """Add the component response ``name`` under its status, or its code to the response already there."""
    status, code, when = REQUEST_ERRORS[name]
    current = next((key for key in responses if str(key) == str(status)), None)
    if current is None:
        responses[str(status)] = name
    elif isinstance(responses[current], dict) and f"`{code}`" not in responses[current].get("description", ""):
        responses[current]["description"] = f"{responses[current].get('description', '')}; `{code}`: {when}"


class SchemaExtrasPlugin(BasePlugin):
    """JSON Schema keywords apispec cannot derive from marshmallow fields: a request schema's
    ``json_schema`` class attribute (e.g. ``{"minProperties": 1}``) is merged into its component."""

    def schema_helper(self, name, definition, schema=None, **kwargs):
        schema_class = schema if isinstance(schema, type) else type(schema) if schema is not None else None
        return dict(getattr(schema_class, "json_schema", None) or {})


def nul_free_strings(no_nul_pattern: str, request_schema: type):
    """An apispec attribute function: every string a ``request_schema`` reads without a pattern of its
    own gets ``no_nul_pattern`` (the server refuses NUL in every body, see ``app.core.api``)."""
    from marshmallow import fields

    def attribute(self, field, ret=None, **kwargs):
        if (isinstance(field, fields.String) and "pattern" not in (ret or {}) and not field.dump_only
                and isinstance(field.parent, request_schema)):
            return {"pattern": no_nul_pattern}
        return {}

    return attribute


# --- links: what one operation's answer lets a client call next -------------------------------------

def link(method: str, path: str, description: str, **parameters: str) -> dict:
    """An OpenAPI link to ``method path`` whose ``parameters`` are runtime expressions
    (``$response.body#/id``, ``$request.path.post_id``): readers, and schemathesis's stateful
    phase, learn what a call created or removed and where to find it."""
    return {"operationRef": "#/paths/" + path.replace("~", "~0").replace("/", "~1") + f"/{method.lower()}",
            "description": description, "parameters": parameters}


def links(status: int, **named: dict) -> dict:
    """``@blp.doc(**links(201, GetPost=link(...)))``: the links of the ``status`` response."""
    return {"responses": {status: {"links": named}}}


def status_order(status) -> tuple[int, str]:
    """Numeric statuses in order, then ``default`` and anything else."""
    text = str(status)
    return (int(text), "") if text.isdigit() else (1000, text)

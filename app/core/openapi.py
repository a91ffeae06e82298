"""What Agora adds to the OpenAPI document flask-smorest builds: the errors every operation of a kind can
answer (400, 413 and 415 where a body is read; 400 ``invalid_cursor`` on lists; 414, 431 and 503 everywhere),
JSON Schema keywords apispec cannot derive, NUL-free request strings, and links between operations."""

from apispec import BasePlugin
from marshmallow import fields

from app.core.parsing import BODY_METHODS

# Response components: (status, code, when) of the errors app/core answers before a
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


def error_component(error_schema, status: int, code: str, when: str) -> dict:
    """The OpenAPI response documenting the error ``code`` (an example message made from ``when``)."""
    return {
        "description": f"`{code}`: {when}",
        "content": {"application/json": {
            "schema": error_schema,
            "example": {"error": {"status": status, "code": code, "message": when.split(":")[0] + "."}},
        }},
    }


def request_error_responses(error_schema) -> dict[str, dict]:
    """The response components of ``REQUEST_ERRORS`` and of validation errors, by name."""
    responses = {name: error_component(error_schema, *error) for name, error in REQUEST_ERRORS.items()}
    responses[VALIDATION_RESPONSE] = {
        "description": VALIDATION_DESCRIPTION,
        "content": {"application/json": {"schema": error_schema, "example": {"error": {
            "status": 422, "code": "validation_error", "message": "The request is not valid.",
            "fields": {"email": ["Not a valid email address."]}}}}},
    }
    return responses


class RequestErrorsPlugin(BasePlugin):
    """Documents the errors an operation can answer besides those it declares (``Blueprint.operation``).

    415 on every POST, PUT and PATCH, 400 ``malformed_json`` and 413 where a body is read, 400 ``invalid_cursor``
    where a ``cursor`` is, 414, 431 (``app.core.serving``) and 503 on every ``/api/v1`` operation. A response
    the route documents for the same status is kept, its description completed; responses go in status order.
    """

    def operation_helper(self, path=None, operations=None, **kwargs):
        for method, operation in (operations or {}).items():
            responses = operation.setdefault("responses", {})
            extra = []
            if method.upper() in BODY_METHODS:
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
    own gets ``no_nul_pattern`` (the server refuses NUL in every body, see ``app.core.parsing``)."""

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

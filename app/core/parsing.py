"""What a request may send, checked once for every route: JSON bodies only, within the size limit (before
the route runs), and bodies and query strings that decode, are stored safely and give a parameter once
(while webargs reads them for ``@blp.arguments``)."""

from flask import Flask, request
from marshmallow import fields
from webargs.flaskparser import FlaskParser, abort
from werkzeug.exceptions import RequestEntityTooLarge

from app.core.errors import error_response

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
UNSTORABLE_TEXT = "Text must be valid Unicode without NUL characters."
REPEATED_PARAMETER = "Give this parameter once."
INVALID_JSON = "Invalid JSON body."  # webargs' own words for the bodies it refuses


def register_body_rules(app: Flask) -> None:
    """Refuse, before any route runs, a body that is not JSON (415) or a chunked one over the limit (413)."""

    @app.before_request
    def require_json_bodies():
        """A body the API would ignore or misread is refused up front."""
        has_body = request.content_length or request.environ.get("HTTP_TRANSFER_ENCODING")
        if request.method in BODY_METHODS and has_body and not request.is_json:
            return error_response(415, "unsupported_media_type", "Send the body as JSON (Content-Type: application/json).")
        return None

    @app.before_request
    def limit_chunked_bodies():
        """A chunked body over MAX_CONTENT_LENGTH is 413, as with a Content-Length.

        werkzeug stops reading such a body at the limit and hands on the truncated part.
        """
        limit = app.config["MAX_CONTENT_LENGTH"]
        if request.content_length is not None or not request.environ.get("HTTP_TRANSFER_ENCODING") or not limit:
            return
        body = request.get_data(cache=True)  # read once, up to the limit; parsing reuses it
        if len(body) >= limit and request.environ["wsgi.input"].read(1):
            raise RequestEntityTooLarge()


class RequestParser(FlaskParser):
    """webargs' parser, made to answer every undecodable body as malformed JSON.

    webargs catches only JSONDecodeError and UnicodeDecodeError, not json's RecursionError and ValueError
    (numbers over 4300 digits). Strings with NUL or lone surrogates cannot be stored: refused here, once.
    """

    def load_querystring(self, req, schema):
        """A parameter the schema reads as one value, given more than once, is refused (422), not
        silently read as its first value: the document types it as a single value."""
        repeated = {name: [REPEATED_PARAMETER] for name in req.args
                    if len(req.args.getlist(name)) > 1 and single_valued(schema, name)}
        if repeated:
            abort(422, messages={"query": repeated})
        return super().load_querystring(req, schema)

    def load_json(self, req, schema):
        try:
            data = super().load_json(req, schema)
        except (RecursionError, ValueError):  # webargs has answered its own decoding errors by now
            abort(400, messages={"json": [INVALID_JSON]})
        if isinstance(data, dict):
            unstorable = {key: [UNSTORABLE_TEXT] for key, value in data.items() if not storable(value)}
            if unstorable:
                abort(422, messages={"json": unstorable})
        elif not storable(data):
            abort(422, messages={"json": {"_schema": [UNSTORABLE_TEXT]}})
        return data


def single_valued(schema, name: str) -> bool:
    """True when ``schema`` reads the parameter ``name`` as one value (not a list)."""
    for field_name, field in schema.load_fields.items():
        if (field.data_key or field_name) == name:
            return not isinstance(field, (fields.List, fields.Tuple))
    return False  # unknown parameters are ignored (QuerySchema)


def storable(value) -> bool:
    """True unless ``value`` holds, at any depth, a string with NUL or a lone surrogate."""
    if isinstance(value, str):
        if "\x00" in value:
            return False
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if isinstance(value, dict):
        return all(storable(key) and storable(item) for key, item in value.items())
    if isinstance(value, list):
        return all(storable(item) for item in value)
    return True

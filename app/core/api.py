"""flask-smorest's Api and Blueprint, set up for Agora's request parsing and error shape."""

from collections.abc import Iterable
from copy import deepcopy

import orjson
from flask import current_app, request
from flask.json.provider import DefaultJSONProvider
from flask.sessions import NullSession, SessionInterface
from flask_smorest import Api as BaseApi
from flask_smorest import Blueprint as BaseBlueprint
from marshmallow import fields
from webargs.flaskparser import FlaskParser, abort

from app.core.openapi import RequestErrorsPlugin, SchemaExtrasPlugin, nul_free_strings, request_error_responses
from app.core.operations import Auth, declare
from app.core.schemas import NO_NUL, ErrorSchema, RequestSchema

UNSTORABLE_TEXT = "Text must be valid Unicode without NUL characters."
REPEATED_PARAMETER = "Give this parameter once."
INVALID_JSON = "Invalid JSON body."  # webargs' own words for the bodies it refuses


class NoSession(NullSession):
    """The empty, read-only ``flask.session`` of every request: Agora keeps nothing in cookies."""

    def _refuse(self, *args, **kwargs):
        raise RuntimeError("Agora keeps no cookie session: tokens travel in the Authorization header.")

    __setitem__ = __delitem__ = clear = pop = popitem = update = setdefault = _refuse


class NoCookieSessions(SessionInterface):
    """No cookie session is read or written.

    Neither the API nor the pages use ``flask.session`` (tokens travel in the Authorization header),
    yet Flask's default interface builds a signing serializer for every request to look for the
    cookie: about a twentieth of an authenticated read. Requests get an empty ``NoSession`` instead.
    """

    null_session_class = NoSession

    def open_session(self, app, request):
        return None  # Flask then hands the request make_null_session(): a NoSession

    def save_session(self, app, session, response) -> None:
        return None


class RequestParser(FlaskParser):
    """webargs' parser, made to answer every undecodable body as malformed JSON.

    webargs catches only JSONDecodeError and UnicodeDecodeError; the json module can also
    raise RecursionError (deep nesting) and ValueError (numbers over 4300 digits).
    Strings holding NUL or lone surrogates decode fine but cannot be stored (PostgreSQL
    refuses NUL; UTF-8 cannot encode a lone surrogate), so they are refused here, once,
    for every field of every route.
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


class Blueprint(BaseBlueprint):
    ARGUMENTS_PARSER = RequestParser()

    def operation(self, *, auth: Auth | None = None, errors: Iterable = ()):
        """Declare how an operation authenticates and which errors it answers, once: enforced and documented.

        ``auth`` is one of ``app.auth.tokens``'s kinds (``ACCESS_TOKEN``, ...): it checks the credential and
        documents the security and its 401. ``errors`` are ``DomainError`` classes, or ``Error.when("what it
        means here")``: each is documented under its class's status and code. Put it first (outermost), so
        the credential is checked before the body is read.
        """
        return lambda view: declare(self, view, auth=auth, errors=errors)


class Api(BaseApi):
    """flask-smorest's Api, documenting Agora's error shape instead of its own."""

    ERROR_SCHEMA = ErrorSchema
    # No catch-all `default` response: each operation lists the statuses it can answer, so a client
    # (and the contract test's status_code_conformance) learns of any other as a mismatch.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def init_app(self, app, *, spec_kwargs=None):
        """flask-smorest's set-up, then Agora's additions to the document (see ``app.core.openapi``): the
        errors every operation of a kind can answer, the request schemas' extra keywords, NUL-free
        request strings (the token errors: ``app.auth.tokens.register_token_docs``).

        flask-smorest's own HTTPException handler, registered here, is replaced by ``app.core.errors``'s,
        which the factory registers afterwards.
        """
        plugins = [*(spec_kwargs or {}).get("extra_plugins", ()), RequestErrorsPlugin(), SchemaExtrasPlugin()]
        super().init_app(app, spec_kwargs={**(spec_kwargs or {}), "extra_plugins": plugins})
        self.ma_plugin.converter.add_attribute_function(nul_free_strings(NO_NUL, RequestSchema))
        # apispec merges its options into every document it writes, and so writes into API_SPEC_OPTIONS's
        # nested dicts, which would otherwise be shared by every app built from the same config class.
        self.spec.options = deepcopy(self.spec.options)
        # Registered again under flask-smorest's names, lazily as it does: these replace its bare 422.
        for name, response in request_error_responses(self.ERROR_SCHEMA).items():
            self.spec.components.response(name, response, lazy=True)


class JSONProvider(DefaultJSONProvider):
    """Responses written by orjson, several times faster than ``json``; requests are still read by ``json``,
    whose errors (and acceptance of big numbers and lone surrogates) the request parser is built on."""

    sort_keys = False  # fields keep the order the schemas declare
    OPTIONS = orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS

    def response(self, *args, **kwargs):
        if len(args) != 1 or kwargs or current_app.debug:  # several values, or pretty-printed: Flask's way
            return super().response(*args, **kwargs)
        try:
            body = orjson.dumps(args[0], default=self.default, option=self.OPTIONS)
        except TypeError:  # what orjson cannot write (an integer over 64 bits): the standard library can
            return super().response(*args)
        return current_app.response_class(body, mimetype=self.mimetype)


def client_address() -> str:
    """The caller's address (the real client's behind TRUSTED_PROXIES hops)."""
    return request.remote_addr or "unknown"

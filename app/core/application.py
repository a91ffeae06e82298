"""Agora's Flask: responses written by orjson, and no cookie sessions."""

import orjson
from flask import Flask, current_app
from flask.json.provider import DefaultJSONProvider
from flask.sessions import NullSession, SessionInterface


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


class JSONProvider(DefaultJSONProvider):
    """Responses written by orjson, for speed; requests are still read by ``json``,
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


class Agora(Flask):
    """The application class the factory builds."""

    json_provider_class = JSONProvider
    session_interface = NoCookieSessions()

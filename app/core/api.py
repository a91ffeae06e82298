"""flask-smorest's Api and Blueprint, set up for Agora's request parsing, operations and error shape."""

from collections.abc import Iterable
from copy import deepcopy

from flask import request
from flask_smorest import Api as BaseApi
from flask_smorest import Blueprint as BaseBlueprint

from app.core.openapi import RequestErrorsPlugin, SchemaExtrasPlugin, nul_free_strings, request_error_responses
from app.core.operations import Auth, declare
from app.core.parsing import RequestParser
from app.core.schemas import NO_NUL, ErrorSchema, RequestSchema


class Blueprint(BaseBlueprint):
    ARGUMENTS_PARSER = RequestParser()

    def operation(self, *, auth: Auth | None = None, errors: Iterable = ()):
        """Declare how an operation authenticates and which errors it answers, once: enforced and documented.

        ``auth``: a kind of ``app.auth.tokens`` (``ACCESS_TOKEN``, ...), checked and documented with its 401.
        ``errors``: ``DomainError`` classes or ``Error.when("what it means here")``, each under its status and code.
        Put it outermost, so the credential is checked before the body is read.
        """
        return lambda view: declare(self, view, auth=auth, errors=errors)


class Api(BaseApi):
    """flask-smorest's Api, documenting Agora's error shape instead of its own."""

    ERROR_SCHEMA = ErrorSchema
    # No catch-all `default` response: each operation lists the statuses it can answer, so a client
    # (and the contract test's status_code_conformance) learns of any other as a mismatch.
    DEFAULT_ERROR_RESPONSE_NAME = None

    def init_app(self, app, *, spec_kwargs=None):
        """flask-smorest's set-up, then Agora's additions to the document (``app.core.openapi``).

        flask-smorest's HTTPException handler is replaced by ``app.core.errors``'s, registered afterwards.
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


def client_address() -> str:
    """The caller's address (the real client's behind TRUSTED_PROXIES hops)."""
    return request.remote_addr or "unknown"

"""Each operation's authentication and errors, declared once (``Blueprint.operation``): enforced and documented from there."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import update_wrapper

from flask_smorest.utils import load_info_from_docstring

from app.core.errors import DomainError, ErrorCase
from app.core.schemas import ErrorSchema

# The header of every answer whose error class ``sends_retry_after``: the same seconds as the body's ``retry_after``.
RETRY_AFTER_HEADER = {"Retry-After": {"description": "Seconds to wait before trying again",
                                      "schema": {"type": "integer", "minimum": 1}}}


@dataclass(frozen=True)
class Auth:
    """How an operation authenticates (the kinds are in ``app.auth.tokens``).

    ``check`` lets the request through or raises the answer that refuses it; ``security`` (OpenAPI
    requirements), ``refused`` (the name of its 401 response component) and ``note`` (added to the
    operation's description) are what the document says of it.
    """

    check: Callable[[], None]
    security: tuple[dict, ...]
    refused: str
    note: str = ""


def declare(blueprint, view, *, auth: Auth | None, errors: Iterable) -> Callable:
    """``view`` guarded by ``auth`` and documented with ``auth`` and ``errors`` (see ``Blueprint.operation``)."""
    responses = error_responses(errors)
    if auth is not None and 401 in responses:
        raise ValueError("an operation with auth= has its 401 documented by it: list no 401 error beside it")
    documented = view
    for status, response in responses.items():
        documented = blueprint.alt_response(status, schema=ErrorSchema, **response)(documented)
    if auth is not None:
        documented = blueprint.alt_response(401, auth.refused)(documented)
        doc = {"security": list(auth.security)}
        if auth.note:
            description = load_info_from_docstring(view.__doc__, delimiter=blueprint.DOCSTRING_INFO_DELIMITER)
            doc["description"] = "\n\n".join(filter(None, [description.get("description"), auth.note]))
        documented = blueprint.doc(**doc)(documented)
        check = auth.check
    else:
        check = None

    # The document's decorators above only annotate: a request runs through this one wrapper, then the view.
    def operation(*args, **kwargs):
        if check is not None:
            check()
        return view(*args, **kwargs)

    return update_wrapper(operation, documented)


def error_responses(errors: Iterable) -> dict[int, dict]:
    """The responses documenting ``errors`` (error classes, or ``Error.when(note)``), one per status."""
    by_status: dict[int, list[ErrorCase]] = {}
    for error in errors:
        case = error if isinstance(error, ErrorCase) else ErrorCase(error)
        if not (isinstance(case.error, type) and issubclass(case.error, DomainError)):
            raise TypeError(f"errors= takes DomainError classes or Error.when(...), not {error!r}")
        by_status.setdefault(case.error.status, []).append(case)
    responses = {}
    for status, cases in by_status.items():
        response = {"description": describe(cases)}
        if any(case.error.sends_retry_after for case in cases):
            response["headers"] = RETRY_AFTER_HEADER
        responses[status] = response
    return responses


def describe(cases: list[ErrorCase]) -> str:
    """``code``s with their notes: "`a`, `b` (with `Retry-After`)" or "`a`: note; `b` (with `Retry-After`)"."""
    every_one_waits = all(case.error.sends_retry_after for case in cases)
    parts = [f"`{case.error.code}`" + (f": {case.note}" if case.note else "")
             + (" (with `Retry-After`)" if case.error.sends_retry_after and not every_one_waits else "")
             for case in cases]
    text = ("; " if any(case.note for case in cases) else ", ").join(parts)
    return text + (" (with `Retry-After`)" if every_one_waits else "")

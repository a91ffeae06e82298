"""URL converters."""

from werkzeug.routing import IntegerConverter

from app.core.schemas import MAX_ID


class IdConverter(IntegerConverter):
    """A database id in a path: 1..2**31-1, so an out-of-range id is a 404, not a database error.

    Written in ASCII digits only (SPEC 3): werkzeug's ``\\d+`` and ``int()`` take any Unicode digit,
    so ``/posts/１`` would name post 1.
    """

    regex = r"[0-9]+"

    def __init__(self, url_map):
        super().__init__(url_map, min=1, max=MAX_ID)


def id_parameter_schema(_converter) -> dict:
    return {"type": "integer", "minimum": 1, "maximum": MAX_ID}

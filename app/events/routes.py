"""``GET /api/v1/events`` (Server-Sent Events) and ``POST /api/v1/events/ticket``."""

from functools import wraps

from flask import Response, current_app, request
from flask.views import MethodView

from app.auth.models import is_revoked
from app.auth.tokens import ACCESS_TOKEN, access_token_or, current_claims
from app.core.api import Blueprint
from app.core.errors import InvalidTicket, ServiceUnavailable, TooManyStreams
from app.events import schemas
from app.events.services import issue_ticket, open_stream, redeem_ticket

blp = Blueprint("events", __name__, url_prefix="/api/v1/events", description="Live updates (Server-Sent Events)")

# Each event's data, as the OpenAPI document names it (registered by ``register_event_schemas``).
EVENT_DATA = {
    "message.created": ("MessageCreatedEvent", schemas.MessageCreatedSchema),
    "conversation.created": ("ConversationCreatedEvent", schemas.ConversationCreatedSchema),
    "like.created": ("LikeCreatedEvent", schemas.LikeCreatedSchema),
    "like.deleted": ("LikeDeletedEvent", schemas.LikeDeletedSchema),
    "profile.updated": ("ProfileUpdatedEvent", schemas.ProfileUpdatedSchema),
    "referral.created": ("ReferralCreatedEvent", schemas.ReferralCreatedSchema),
    "session.revoked": ("EmptyEvent", schemas.EmptySchema),
    "reauth": ("EmptyEvent", schemas.EmptySchema),
    "resync": ("EmptyEvent", schemas.EmptySchema),
}
STREAM_EXAMPLE = (
    "retry: 2000\n: open\n\n"
    "id: 1796599924383-0\nevent: message.created\ndata: {\"conversation_id\": 5, \"message\": {\"id\": 230, "
    "\"conversation_id\": 5, \"author\": {\"id\": 42, \"name\": \"Ada Lovelace\"}, \"kind\": \"user\", "
    "\"body\": \"Meet at the station at nine?\", \"created_at\": \"2026-12-06T09:30:00.123456+00:00\"}}\n\n"
    ": keep-alive\n\n"
)
STREAM_RESPONSE = {
    "description": "The stream, in the EventSource format: each event has `id:` (opaque, increasing), `event:` "
                   "(its name) and `data:` (one line of JSON, its schema under `x-events`); `: keep-alive` "
                   "comments keep it open. `session.revoked` and `reauth` end it.",
    "content": {"text/event-stream": {"schema": {"type": "string"}, "example": STREAM_EXAMPLE}},
    "x-events": {name: {"$ref": f"#/components/schemas/{schema_name}"}
                 for name, (schema_name, _) in EVENT_DATA.items()},
}


TICKET_SCHEME = "eventTicket"


def register_event_schemas(api) -> None:
    """Each event's data, and the ticket as the credential it is (a second way to open the stream)."""
    for schema_name, schema in dict(EVENT_DATA.values()).items():
        api.spec.components.schema(schema_name, schema=schema)
    api.spec.components.security_scheme(TICKET_SCHEME, {
        "type": "apiKey", "in": "query", "name": "ticket",
        "description": "A single-use ticket from `POST /api/v1/events/ticket`, for `GET /api/v1/events` only, where a "
                       "header cannot be sent (browsers' EventSource); 401 `invalid_ticket` once used or expired"})


def claims_of_ticket(ticket: str) -> dict:
    """The claims of the token that asked for ``ticket``; 401 ``invalid_ticket`` when it opens nothing."""
    claims = redeem_ticket(ticket)
    if claims is None:
        raise InvalidTicket()
    if is_revoked(claims):
        raise InvalidTicket("The session that asked for this ticket has ended: sign in again.")
    return claims


# Browsers' EventSource cannot send a header: a single-use ticket in the URL stands for the token there.
ACCESS_TOKEN_OR_TICKET = access_token_or(TICKET_SCHEME, "ticket", claims_of_ticket)


def streams_served_here(view):
    """503 where this process does not serve streams: checked before a ticket is spent on it."""
    @wraps(view)
    def served(*args, **kwargs):
        if not current_app.config["EVENTS_SERVED_HERE"]:
            raise ServiceUnavailable("Live events are served by Agora's streaming processes: route /api/v1/events "
                                     "to them (docs: operations).")
        return view(*args, **kwargs)
    return served


@blp.route("")
class Events(MethodView):
    # The credential last: checking a ticket spends it, so the query and the process are checked first.
    @blp.doc(responses={"200": STREAM_RESPONSE})
    @blp.arguments(schemas.StreamArgsSchema, location="query")
    @streams_served_here
    @blp.operation(auth=ACCESS_TOKEN_OR_TICKET, errors=[
        TooManyStreams.when("over `EVENTS_MAX_STREAMS_PER_USER`"),
        ServiceUnavailable.when("Redis is unreachable, or this process does not serve streams")])
    def get(self, args):
        """Stream my events as they happen (resume with `Last-Event-ID`)

        With a bearer token, or with `?ticket=` from `POST /api/v1/events/ticket` (browsers' EventSource
        cannot send a header; a token is never accepted in a URL): a ticket that is unknown, used, expired,
        or whose session ended is 401 `invalid_ticket`. Every event and its data: `x-events` of the 200
        answer, and docs/events.md.
        """
        last_event_id = request.headers.get("Last-Event-ID") or args.get("last_event_id")
        return Response(open_stream(current_claims(), last_event_id), mimetype="text/event-stream",
                        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@blp.route("/ticket")
class Ticket(MethodView):
    @blp.operation(auth=ACCESS_TOKEN)
    @blp.response(201, schemas.TicketSchema)
    def post(self):
        """A single-use ticket to open my event stream where a header cannot be sent (EventSource)"""
        return issue_ticket(current_claims())

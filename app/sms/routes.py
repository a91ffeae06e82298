"""The development SMS outbox: what the outbox backend sent, for tests, the UI and the bot."""

from flask.views import MethodView
from marshmallow import Schema, fields, validate

from app.api import Blueprint
from app.auth.phone_codes import normalize_phone
from app.schemas import EXAMPLE_PHONE, EXAMPLE_TIME, ErrorSchema, QuerySchema
from app.sms import services

blp = Blueprint("dev", __name__, url_prefix="/api/v1/dev", description="Development helpers")


class OutboxArgsSchema(QuerySchema):
    phone = fields.String(required=True, validate=validate.Length(min=1, max=32), metadata={"example": EXAMPLE_PHONE})


class SmsSchema(Schema):
    phone = fields.String(required=True, metadata={"example": EXAMPLE_PHONE})
    body = fields.String(required=True, metadata={"example": "Your Agora code is 4821. It expires in 5 minutes."})
    created_at = fields.DateTime(required=True, metadata={"example": EXAMPLE_TIME})


class OutboxSchema(Schema):
    items = fields.List(fields.Nested(SmsSchema), required=True)


@blp.route("/sms-outbox")
class SmsOutbox(MethodView):
    @blp.arguments(OutboxArgsSchema, location="query")
    @blp.response(200, OutboxSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="`not_found`: SMS_BACKEND is not `outbox`")
    def get(self, args):
        """The messages the outbox backend sent to a phone, newest first (only while SMS_BACKEND=outbox)"""
        return {"items": services.outbox(normalize_phone(args["phone"]))}

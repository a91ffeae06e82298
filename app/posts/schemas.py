"""Post and like bodies."""

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from app.schemas import MAX_ID, PageArgsSchema, TrimmedSchema, UserRefSchema, page_schema

TITLE_MAX = 200
BODY_MAX = 10_000


class PostCreateSchema(TrimmedSchema):
    title = fields.String(load_default=None, allow_none=True, validate=validate.Length(min=1, max=TITLE_MAX))
    body = fields.String(required=True, validate=validate.Length(min=1, max=BODY_MAX))


class PostUpdateSchema(TrimmedSchema):
    title = fields.String(allow_none=True, validate=validate.Length(min=1, max=TITLE_MAX))
    body = fields.String(validate=validate.Length(min=1, max=BODY_MAX))

    @validates_schema
    def not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("Send at least one field to change: title or body.")


class PostListArgsSchema(PageArgsSchema):
    author_id = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID))


class PostSchema(Schema):
    id = fields.Integer(required=True)
    author = fields.Nested(UserRefSchema, required=True)
    title = fields.String(allow_none=True)
    body = fields.String(required=True)
    like_count = fields.Integer(required=True)
    liked_by_me = fields.Boolean(required=True)
    created_at = fields.DateTime(required=True)
    updated_at = fields.DateTime(required=True)


class LikeStatusSchema(Schema):
    post_id = fields.Integer(required=True)
    liked = fields.Boolean(required=True)
    like_count = fields.Integer(required=True)


class LikeSchema(Schema):
    user = fields.Nested(UserRefSchema, required=True)
    created_at = fields.DateTime(required=True, metadata={"description": "To the microsecond"})


PostPageSchema = page_schema(PostSchema, "PostPage")
LikePageSchema = page_schema(LikeSchema, "LikePage")

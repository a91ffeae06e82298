"""Post and like bodies."""

from marshmallow import ValidationError, fields, validate, validates_schema

from app.core.schemas import (EXAMPLE_TIME, MAX_ID, PageArgsSchema, ResponseSchema, TrimmedSchema, UserRefSchema,
                              page_schema, text_field)

TITLE_MAX = 200
BODY_MAX = 10_000
EXAMPLE_TITLE = "Notes on the Analytical Engine"
EXAMPLE_BODY = "It might act upon other things besides number: music, for one."


class PostCreateSchema(TrimmedSchema):
    title = text_field(TITLE_MAX, load_default=None, allow_none=True, metadata={"example": EXAMPLE_TITLE})
    body = text_field(BODY_MAX, required=True, metadata={"example": EXAMPLE_BODY})


class PostUpdateSchema(TrimmedSchema):
    json_schema = {"minProperties": 1}  # the rule of not_empty (unknown fields are refused)

    title = text_field(TITLE_MAX, allow_none=True, metadata={"example": "Notes on the Analytical Engine, revised"})
    body = text_field(BODY_MAX, metadata={"example": "It might compose elaborate pieces of music, of any length."})

    @validates_schema
    def not_empty(self, data, **kwargs):
        if not data:
            raise ValidationError("Send at least one field to change: title or body.")


class PostListArgsSchema(PageArgsSchema):
    author_id = fields.Integer(load_default=None, validate=validate.Range(min=1, max=MAX_ID),
                               metadata={"description": "Only this user's posts", "example": 42})


class PostSchema(ResponseSchema):
    id = fields.Integer(required=True, metadata={"example": 17})
    author = fields.Nested(UserRefSchema, required=True)
    title = fields.String(allow_none=True, metadata={"example": EXAMPLE_TITLE})
    body = fields.String(required=True, metadata={"example": EXAMPLE_BODY})
    like_count = fields.Integer(required=True, metadata={"example": 3})
    liked_by_me = fields.Boolean(required=True, metadata={"description": "Always false without a token",
                                                          "example": False})
    created_at = fields.DateTime(required=True, metadata={"example": EXAMPLE_TIME})
    updated_at = fields.DateTime(required=True, metadata={"example": EXAMPLE_TIME})


class LikeStatusSchema(ResponseSchema):
    post_id = fields.Integer(required=True, metadata={"example": 17})
    liked = fields.Boolean(required=True, metadata={"example": True})
    like_count = fields.Integer(required=True, metadata={"example": 4})


class LikeSchema(ResponseSchema):
    user = fields.Nested(UserRefSchema, required=True)
    created_at = fields.DateTime(required=True, metadata={"description": "To the microsecond", "example": EXAMPLE_TIME})


PostPageSchema = page_schema(PostSchema, "PostPage")
LikePageSchema = page_schema(LikeSchema, "LikePage")

"""Response bodies of the probes."""

from marshmallow import fields

from app.core.schemas import ResponseSchema


class HealthSchema(ResponseSchema):
    status = fields.String(required=True, metadata={"example": "ok"})


class ReadySchema(ResponseSchema):
    status = fields.String(required=True, metadata={"example": "ready"})
    checks = fields.Dict(keys=fields.String(), values=fields.String(), required=True, metadata={
        "description": "Each part and its state: `database` and `redis` always; `broker` and `worker` when tasks "
                       "go to a broker; on a streaming process instead, `events`: whether it reads the events' "
                       "fan-out. `ok`, or `unreachable`; a worker can also be `missing`, `stale` or `unknown`, "
                       "events `not_reading`",
        "example": {"database": "ok", "redis": "ok", "broker": "ok", "worker": "ok"}})

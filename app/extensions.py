"""Every extension, created once and unbound; ``create_app`` attaches them."""

import fakeredis
import redis
from flask import current_app
from flask_jwt_extended import JWTManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Model(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class RedisStore:
    """A Redis client per app: a real server when REDIS_URL is set, else in-process fakeredis."""

    def init_app(self, app):
        url = app.config["REDIS_URL"]
        if url:
            client = redis.Redis.from_url(
                url, decode_responses=True, socket_connect_timeout=2, socket_timeout=5,
                health_check_interval=30,
            )
        else:
            client = fakeredis.FakeRedis(server=fakeredis.FakeServer(), decode_responses=True)
        app.extensions["redis"] = client

    @property
    def client(self) -> redis.Redis:
        return current_app.extensions["redis"]

    def key(self, *parts) -> str:
        """A key under this deployment's prefix, so several apps can share one server."""
        return current_app.config["REDIS_KEY_PREFIX"] + ":".join(str(part) for part in parts)


db = SQLAlchemy(model_class=Model)
migrate = Migrate()
jwt = JWTManager()
redis_store = RedisStore()

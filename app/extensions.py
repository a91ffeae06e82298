"""Every extension, created once and unbound; ``create_app`` attaches them."""

import threading
import time
from collections import OrderedDict

import fakeredis
import redis
from flask import current_app
from flask_jwt_extended import JWTManager, decode_token
from jwt import get_unverified_header as jwt_get_unverified_header
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
            # A blocking pool: past its connections a caller waits its turn (up to a socket timeout) instead of
            # failing, as thousands of streams in one gevent process would with redis-py's default pool.
            pool = redis.BlockingConnectionPool.from_url(
                url, max_connections=100, timeout=5, decode_responses=True, socket_connect_timeout=2, socket_timeout=5,
                health_check_interval=30,
            )
            client = redis.Redis(connection_pool=pool)
        else:
            client = fakeredis.FakeRedis(server=fakeredis.FakeServer(), decode_responses=True)
        app.extensions["redis"] = client
        app.extensions["redis_scripts"] = {}

    @property
    def client(self) -> redis.Redis:
        return current_app.extensions["redis"]

    def dedicated(self, *, read_timeout: float) -> redis.Redis:
        """A client on a connection of its own, for a loop that blocks on Redis (the live events' reader):
        it never waits behind the pool, nor holds one of the pool's connections. The same in-process
        fakeredis without a server."""
        url = current_app.config["REDIS_URL"]
        if not url:
            return self.client
        return redis.Redis.from_url(url, decode_responses=True, socket_connect_timeout=2, socket_timeout=read_timeout,
                                    health_check_interval=30, single_connection_client=True)

    def script(self, source: str):
        """A Lua script registered once per app (registering hashes it: not on every call)."""
        scripts = current_app.extensions["redis_scripts"]
        return scripts.get(source) or scripts.setdefault(source, self.client.register_script(source))

    def key(self, *parts) -> str:
        """A key under this deployment's prefix, so several apps can share one server."""
        return current_app.config["REDIS_KEY_PREFIX"] + ":".join(str(part) for part in parts)


class CachingJWTManager(JWTManager):
    """flask-jwt-extended, remembering the tokens whose signature it has verified.

    A client sends the same token on every request of its life (bench/README.md has what verifying it
    again cost). Expiry is checked at every use; revocation is never cached (``app.auth.tokens``).
    """

    CACHE_SIZE = 4096

    def __init__(self, app=None, add_context_processor: bool = False) -> None:
        self._verified: OrderedDict = OrderedDict()
        self._verified_lock = threading.Lock()
        super().__init__(app, add_context_processor)

    def verified_token(self, encoded_token: str) -> tuple[dict, dict]:
        """The header and claims of a token whose signature and expiry hold; raises flask-jwt-extended's
        and PyJWT's errors (answered by the loaders ``app.auth.tokens`` registers) when they do not."""
        config = current_app.config
        key = (config["JWT_SECRET_KEY"], encoded_token)
        with self._verified_lock:
            entry = self._verified.get(key)
            if entry is not None:
                self._verified.move_to_end(key)
        if entry is not None and time.time() < entry[1]["exp"] + config["JWT_DECODE_LEEWAY"]:
            return entry[0], dict(entry[1])
        claims = decode_token(encoded_token)  # raises when invalid
        header = jwt_get_unverified_header(encoded_token)
        if "exp" in claims:
            with self._verified_lock:
                self._verified[key] = (header, claims)
                if len(self._verified) > self.CACHE_SIZE:
                    self._verified.popitem(last=False)
        return header, dict(claims)


db = SQLAlchemy(model_class=Model)
migrate = Migrate()
jwt = CachingJWTManager()
redis_store = RedisStore()

"""The ceiling Agora's routes are measured against: bare Flask + psycopg, no ORM, no auth, no schemas.

Each route does the least its Agora counterpart must: answer JSON, read one post by primary
key, run one ``UPDATE ... RETURNING`` or one ``INSERT ... RETURNING``. It runs on the same
database as Agora, under gunicorn (``gunicorn -w 2 bench.bare:app``), one connection per thread.
"""

import os
import threading
from datetime import datetime, timezone

import psycopg
from flask import Flask, jsonify, request

app = Flask(__name__)
_local = threading.local()


def connection() -> psycopg.Connection:
    conn = getattr(_local, "connection", None)
    if conn is None or conn.closed:
        url = os.environ["BARE_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
        conn = _local.connection = psycopg.connect(url, autocommit=True)
    return conn


def post_json(row) -> dict:
    post_id, author_id, title, body, like_count, created_at, updated_at = row
    return {"id": post_id, "author_id": author_id, "title": title, "body": body, "like_count": like_count,
            "created_at": created_at.isoformat(), "updated_at": updated_at.isoformat()}


@app.get("/healthz")
def healthz():
    return jsonify(status="ok")


@app.get("/posts/<int:post_id>")
def read_post(post_id: int):
    row = connection().execute("SELECT id, author_id, title, body, like_count, created_at, updated_at "
                               "FROM posts WHERE id = %s", (post_id,)).fetchone()
    return (jsonify(post_json(row)), 200) if row else (jsonify(error="not found"), 404)


@app.post("/posts/<int:post_id>/touch")
def update_post(post_id: int):
    row = connection().execute("UPDATE posts SET like_count = like_count WHERE id = %s RETURNING like_count",
                               (post_id,)).fetchone()
    return jsonify(post_id=post_id, like_count=row[0])


@app.post("/posts")
def insert_post():
    data = request.get_json()
    now = datetime.now(timezone.utc)
    row = connection().execute(
        "INSERT INTO posts (author_id, title, body, like_count, created_at, updated_at) "
        "VALUES (%s, %s, %s, 0, %s, %s) RETURNING id, author_id, title, body, like_count, created_at, updated_at",
        (data["author_id"], data.get("title"), data["body"], now, now)).fetchone()
    return jsonify(post_json(row)), 201

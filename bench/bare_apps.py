"""The ceilings Placard is measured against: the least a Flask app can do.

``hello()`` answers GET /hello with a short text: what gunicorn and Flask
cost on their own. ``insert()`` answers POST /insert by parsing the same form
a signer sends and writing one row into ``bench_bare_insert`` (in the
database named by ``BENCH_DATABASE_URL``) through psycopg, one autocommitted
INSERT on a connection kept per thread: the least any signing endpoint that
stores something durably can cost. Served by gunicorn exactly as Placard is::

    gunicorn --pythonpath bench "bare_apps:hello()"
    gunicorn --pythonpath bench "bare_apps:insert()"
"""

import os
import threading

import psycopg
from flask import Flask, request

TABLE = "bench_bare_insert"
CREATE_TABLE = f"""
CREATE TABLE IF NOT EXISTS {TABLE} (
    id bigserial PRIMARY KEY,
    email text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
)"""


def hello():
    app = Flask("bare_hello")

    @app.get("/hello")
    def say_hello():
        return "hello"

    return app


def insert():
    app = Flask("bare_insert")
    url = os.environ["BENCH_DATABASE_URL"]
    local = threading.local()

    def connection():
        conn = getattr(local, "conn", None)
        if conn is None or conn.closed:
            conn = local.conn = psycopg.connect(url, autocommit=True)
        return conn

    @app.post("/insert")
    def insert_row():
        email = request.form["email"]
        connection().execute(f"INSERT INTO {TABLE} (email) VALUES (%s)", (email,))  # noqa: S608
        return "stored", 201

    return app

"""gunicorn settings of the streaming processes: ``gunicorn --config gunicorn.streams.conf.py app.events.wsgi:app``.

Open streams (GET /api/v1/events) mostly wait: one gevent process holds thousands of them, where a sync
or threaded worker would give each its own process or thread (docs/operations-live.md has the numbers).
The API's settings file lends what both share: the metrics directory's preparation, the checks of numbers
from the environment, and the hooks that drop a dead worker's gauges.
"""

import importlib.util
import os
from pathlib import Path

from dotenv import load_dotenv

load_dotenv()  # first: a PROMETHEUS_MULTIPROC_DIR from .env is moved below like one from the environment

# The API's master empties PROMETHEUS_MULTIPROC_DIR of its sample files at start: these processes keep
# theirs in a folder of their own inside it, so both masters can share the one setting. Done once per
# master (a reload reads this file again).
if os.environ.get("PROMETHEUS_MULTIPROC_DIR") and os.environ.get("AGORA_METRICS_PREPARED_BY") != str(os.getpid()):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = os.path.join(os.environ["PROMETHEUS_MULTIPROC_DIR"], "streams")

_spec = importlib.util.spec_from_file_location("agora_api_gunicorn_conf", Path(__file__).with_name("gunicorn.conf.py"))
api = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(api)  # loads .env, checks WEB_CONCURRENCY and the like, prepares the metrics directory

bind = os.environ.get("STREAMS_BIND", "127.0.0.1:8002")
# One process reads the fan-out once (docs/operations-live.md has its measurement): scale by adding
# processes, here or on other hosts behind the proxy.
workers = api.whole_number("STREAMS_CONCURRENCY", 1)
worker_class = "gevent"
# A held stream is a connection: room for 10,000 streams and the probes beside them (the open-files
# limit must allow as many: deploy/agora-streams.service raises it).
worker_connections = api.whole_number("STREAMS_CONNECTIONS", 12000)
# gevent's worker reports to the master from its own loop, whatever its streams are doing.
timeout = 30
# Streams never end by themselves: a stop or reload would wait this long for nothing; clients resume.
graceful_timeout = 5
accesslog = None
# gevent patches the standard library when the worker starts; an app loaded by the master before that
# would keep unpatched sockets and locks (gunicorn issues 1566 and 1056).
preload_app = False
globals().update(api.control_socket_settings("STREAMS_CONTROL_SOCKET"))  # two masters cannot share one
child_exit = api.child_exit
on_exit = api.on_exit


def post_worker_init(worker):
    """Start reading the fan-out now, not at the first stream: /readyz reports it (check ``events``)."""
    from app.events.hub import hub_of

    hub_of(worker.app.wsgi()).start()

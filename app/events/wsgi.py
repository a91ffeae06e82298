"""The streaming processes' entry point: ``gunicorn --config gunicorn.streams.conf.py app.events.wsgi:app``.

The API's app, serving ``GET /api/v1/events`` (EVENTS_SERVED_HERE), which the API's own processes refuse
with a Redis server; each of these processes reads the fan-out the API publishes to (docs/operations-live.md).
A configuration error ends the process with its one line, as wsgi.py does.
"""

from dotenv import load_dotenv

from app import create_app_or_exit

load_dotenv()
app = create_app_or_exit({"EVENTS_SERVED_HERE": True})
if not app.config["REDIS_URL"]:  # its own in-process Redis would hear no event the API publishes
    raise SystemExit("Agora configuration error: the streaming processes (app.events.wsgi) need REDIS_URL, the "
                     "Redis server the API publishes events to; without it, `make serve` serves streams itself")

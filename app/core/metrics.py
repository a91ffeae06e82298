"""Prometheus metrics (the official ``prometheus_client``): what Agora counts, and how a scrape reads it.

Under gunicorn each worker writes its samples to PROMETHEUS_MULTIPROC_DIR and a scrape adds them up
(docs/operations.md, "Metrics"). Labels never carry user data. The provider-call metrics live in
``app.integrations.http``, which may not import this module.
"""

import hmac
import ipaddress
import os

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # the first metric below opens its file there
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

# The _created series are not written in multiprocess mode: leave them out in single-process mode too.
disable_created_metrics()

# Latency buckets (seconds) of the API: most answers take milliseconds; argon2 and providers take longer.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
TASK_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)

HTTP_REQUESTS = Histogram(
    "agora_http_request_duration_seconds",
    "Time to answer a request, by method, route (the URL rule) and status; _count is the request count.",
    ("method", "route", "status"), buckets=REQUEST_BUCKETS,
)
TASK_RUNS = Counter(
    "agora_task_runs_total",
    "Runs of a background task by outcome: success, retry (another attempt is scheduled) or failure (it raised).",
    ("task", "provider", "outcome"),
)
TASK_DURATION = Histogram(
    "agora_task_duration_seconds", "Time one run of a background task took, by task and provider.",
    ("task", "provider"), buckets=TASK_BUCKETS,
)
PHONE_CODES_ISSUED = Counter("agora_phone_codes_issued_total", "Sign-in codes issued and queued for delivery.")
PHONE_CODES_DELIVERED = Counter(
    "agora_phone_codes_delivered_total", "Sign-in codes handed to the SMS backend, by backend.", ("backend",),
)
PHONE_CODES_UNDELIVERED = Counter(
    "agora_phone_codes_undelivered_total",
    "Sign-in codes that were not delivered, by backend and reason (replaced: a newer code took its place).",
    ("backend", "reason"),
)
PHONE_CODES_VERIFIED = Counter("agora_phone_codes_verified_total", "Sign-in codes accepted.")
PHONE_CODES_REFUSED = Counter(
    "agora_phone_codes_refused_total",
    "Requests for a code (action=issue) or checks of one (action=verify) refused, by the API error code.",
    ("action", "reason"),
)

# Live events (SPEC 12): published by any process after a write commits, delivered by the streaming ones.
EVENTS_PUBLISHED = Counter("agora_events_published_total", "Live events appended for their recipients, by event.",
                           ("event",))
EVENTS_PUBLISH_FAILED = Counter("agora_events_publish_failed_total",
                                "Live events lost because Redis refused or dropped the append (the write stood).")
EVENTS_DELIVERED = Counter("agora_events_delivered_total", "Live events written to an open stream, by event.",
                           ("event",))
EVENTS_STREAMS_OPEN = Gauge("agora_events_streams_open", "Event streams open now.", multiprocess_mode="livesum")
EVENTS_DELIVERY_LAG = Histogram(
    "agora_events_delivery_lag_seconds", "From an event's append in Redis to its write to a live stream.",
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)

# A client picks the method: anything outside HTTP's own is one label value, so series stay bounded.
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_request_series: dict = {}


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    """One sample of the request histogram; its labelled child is looked up once per series.

    The cache is keyed by the label, never the raw method: one entry per series, however many
    method strings clients invent.
    """
    key = (method if method in METHODS else "other", route, status)
    series = _request_series.get(key)
    if series is None:
        series = _request_series.setdefault(key, HTTP_REQUESTS.labels(key[0], route, str(status)))
    series.observe(seconds)


def record_task_run(task: str, provider: str, outcome: str, seconds: float) -> None:
    TASK_RUNS.labels(task, provider, outcome).inc()
    TASK_DURATION.labels(task, provider).observe(seconds)


def multiprocess_directory() -> str | None:
    """The directory worker processes write their samples to; None in single-process mode."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None


def clear_multiprocess_directory(path: str) -> None:
    """Create ``path`` or delete the sample files a previous run left in it (nothing else in it)."""
    os.makedirs(path, exist_ok=True)
    for name in os.listdir(path):
        if name.endswith(".db"):
            try:
                os.remove(os.path.join(path, name))
            except FileNotFoundError:
                pass


class _ProcessRegistry:
    """This process's default registry as one collector of a scrape's registry."""

    def collect(self):
        return REGISTRY.collect()


def scrape_registry(*extra_collectors) -> CollectorRegistry:
    """What a scrape reads: every process's samples (multiprocess mode) or this process's, then ``extra_collectors``."""
    registry = CollectorRegistry(auto_describe=False)
    path = multiprocess_directory()
    if path:
        MultiProcessCollector(registry, path=path)
    else:
        registry.register(_ProcessRegistry())
    for collector in extra_collectors:
        registry.register(collector)
    return registry


class QueueDepthCollector:
    """The length of each Celery queue, read from the Redis broker at scrape time (one pipelined round trip).

    kombu keeps a queue as one Redis list per priority step (``<name>`` and ``<name>\\x06\\x16<step>``).
    ``queues`` comes from the factory (``app.core`` knows no tasks); ``client()`` is called at the first scrape.
    """

    PRIORITY_SEPARATOR = "\x06\x16"
    PRIORITY_STEPS = (0, 3, 6, 9)

    def __init__(self, client, prefix: str, queues: tuple[str, ...]):
        self._client_factory = client
        self._client = None
        self.prefix = prefix
        self.queues = tuple(queues)

    def keys(self, queue: str) -> list[str]:
        name = self.prefix + queue
        return [name if step == 0 else f"{name}{self.PRIORITY_SEPARATOR}{step}" for step in self.PRIORITY_STEPS]

    def collect(self):
        depth = GaugeMetricFamily("agora_celery_queue_length", "Tasks waiting in each Celery queue (the broker's lists).",
                                  labels=("queue",))
        up = GaugeMetricFamily("agora_celery_broker_up", "1 when the broker answered the queue-length read, else 0.")
        try:
            if self._client is None:
                self._client = self._client_factory()
            pipe = self._client.pipeline(transaction=False)
            for queue in self.queues:
                for key in self.keys(queue):
                    pipe.llen(key)
            lengths = pipe.execute()
        except Exception:  # a scrape must still answer when the broker is away: broker_up says so
            up.add_metric((), 0)
            yield up
            return
        steps = len(self.PRIORITY_STEPS)
        for index, queue in enumerate(self.queues):
            depth.add_metric((queue,), sum(int(n or 0) for n in lengths[index * steps:(index + 1) * steps]))
        up.add_metric((), 1)
        yield depth
        yield up


class MetricsAccess:
    """Who may read /metrics: a client address in ``networks``, or a bearer ``token`` (compared in constant time)."""

    def __init__(self, networks, token: str | None):
        self.networks = tuple(ipaddress.ip_network(network, strict=False) for network in networks)
        self.token = token.encode() if token else None

    def allows(self, remote_addr: str | None, authorization: str | None) -> bool:
        if self.token is not None and authorization:
            scheme, _, presented = authorization.partition(" ")
            if scheme.lower() == "bearer" and hmac.compare_digest(presented.strip().encode(), self.token):
                return True
        if not remote_addr or not self.networks:
            return False
        try:
            address = ipaddress.ip_address(remote_addr)
        except ValueError:
            return False
        if address.version == 6 and address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        return any(address in network for network in self.networks if network.version == address.version)

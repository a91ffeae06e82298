"""Celery settings. The broker URL comes from the app's configuration (CELERY_BROKER_URL or REDIS_URL);
the queues, routes and beat schedule from the task registry (``tasks.celery_app``)."""

task_serializer = "json"
result_serializer = "json"
accept_content = ["json"]
task_ignore_result = True

# A task is acknowledged when it ends, so a worker that dies mid-task leaves it to another.
task_acks_late = True
task_reject_on_worker_lost = True
worker_prefetch_multiplier = 1
# A task running when the broker drops finishes (an SMS already waited for is still sent); its late ack
# then fails and is logged. Set explicitly: Celery 6 turns it on by default.
worker_cancel_long_running_tasks_on_connection_loss = False
task_time_limit = 120
task_soft_time_limit = 90

# The queues, the routes and beat's schedule come from the task registry (tasks.registry): separate
# queues, so slow providers never hold up SMS delivery; deployments can give each its own workers.
task_default_queue = "integrations"

# A broker that is down must not hold a signup: fail fast, the user stays pending and is resumed.
broker_connection_retry_on_startup = True
# A worker whose broker is away keeps trying (every 2 s, backing off to 30 s) instead of exiting after
# 100 tries; the restart by `make worker` or systemd is only the last resort.
broker_connection_max_retries = None
broker_connection_timeout = 2
task_publish_retry_policy = {"max_retries": 2, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}

timezone = "UTC"

"""Celery settings; the broker URL comes from the app's configuration (CELERY_BROKER_URL or REDIS_URL)."""

task_serializer = "json"
result_serializer = "json"
accept_content = ["json"]
task_ignore_result = True
task_acks_late = True
task_reject_on_worker_lost = True
worker_prefetch_multiplier = 1
task_time_limit = 120
task_soft_time_limit = 90
broker_connection_retry_on_startup = True
timezone = "UTC"

"""Shared plumbing: the API object, database sessions, errors, base schemas, pagination, limits, retries, queueing."""

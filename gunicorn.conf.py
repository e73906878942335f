"""Production gunicorn settings: `gunicorn -c gunicorn.conf.py issuetracker.wsgi`."""

import multiprocessing
import os

bind = f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
# Every Firestore call is bounded by FIRESTORE_TIMEOUT; a request past this is stuck.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 20
keepalive = 5
# A worker is replaced after this many requests (a guard against leaks). Each
# replacement boots Django again (seconds on a small machine) and starts with an
# empty ingest buffer and lock cache: at 100 reports a second, 2,000 replaced
# each worker every 20 s, in the middle of every storm.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "20000"))
max_requests_jitter = max_requests // 10
# Not preloaded: the gRPC channel of the Firestore client must be created after fork.
preload_app = False
accesslog = "-"
errorlog = "-"
# The request line without the query string, so nothing secret in a URL is logged.
access_log_format = '%(h)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms'
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")


def worker_exit(server: object, worker: object) -> None:
    """Write the worker's buffered occurrences and counter moves before it goes
    (issues/store/buffers.py); atexit does the same, this is the explicit path."""
    from issues.store.buffers import flush_at_exit

    flush_at_exit()

"""gunicorn settings for the portal (and the separately served simulator), all from the environment.

gunicorn reads this file from the working directory. ``WEB_CONCURRENCY`` worker processes of
``GUNICORN_THREADS`` threads each (threads: a request waits on the cloud most of its time).
The portal logs one line per request itself (JSON), so gunicorn's access log is off unless
``GUNICORN_ACCESS_LOG`` names a file (or ``-``).
"""

import os

# GUNICORN_BIND (host:port), else every interface on PORT (8000).
bind = os.environ.get("GUNICORN_BIND") or f"0.0.0.0:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
worker_class = "gthread"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
max_requests_jitter = max_requests // 10
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
access_log_format = os.environ.get("GUNICORN_ACCESS_LOG_FORMAT", '%(h)s "%(r)s" %(s)s %(b)s %(M)sms')
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Behind a load balancer that sets X-Forwarded-*: the addresses trusted to set them.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
# Load the app once in the master, then fork: faster start, less memory.
preload_app = os.environ.get("GUNICORN_PRELOAD", "true").lower() in {"1", "true", "yes"}
# No control socket by default: its default path is per user, so several gunicorns on one host
# (app servers, the simulator) would share it. GUNICORN_CONTROL_SOCKET=path turns it on.
control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET") or None
control_socket_disable = control_socket is None
if control_socket is None:
    del control_socket

# Metrics (ops.metrics): the worker processes write their counters to files in
# PROMETHEUS_MULTIPROC_DIR, which /metrics adds up. Unset, this server gets a fresh folder of its
# own (several servers on one host never mix theirs), removed when the server stops.
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    import tempfile

    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="portal-metrics-")
    _own_metrics_dir = True
else:
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)
    _own_metrics_dir = False


def on_starting(server):
    """A given folder is emptied first: counters of a former run must not count again."""
    if not _own_metrics_dir:
        folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
        for name in os.listdir(folder):
            if name.endswith(".db"):
                os.remove(os.path.join(folder, name))


def child_exit(server, worker):
    """A worker that exits leaves its live gauges behind; its counters stay counted."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _own_metrics_dir:
        import shutil

        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)

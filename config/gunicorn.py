"""gunicorn settings of the web server (``gunicorn -c config/gunicorn.py config.wsgi``).

Read by scripts/start and by production hosts alike; each value can be overridden on the command
line. Two things a default gunicorn gets wrong here:

* its control socket defaults to one path per user (~/.gunicorn/gunicorn.ctl), so two instances on
  one host fight over it: each instance gets its own, beside its data;
* a thread reads an upload's body for as long as the client takes, so a few clients that open an
  upload and then send nothing hold every thread and freeze the app. Each request's socket gets a
  read timeout (ANNOTATE_UPLOAD_IDLE_SECONDS): an upload may be slow, but one that sends nothing for
  that long is dropped and its thread freed. There are enough threads for many uploads at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from config.env import env_int, env_path

_data_dir = env_path("ANNOTATE_DATA_DIR", Path("var"))  # the default of config/settings.py

worker_class = "gthread"
workers = env_int("ANNOTATE_WEB_WORKERS", 2, minimum=1)
threads = env_int("ANNOTATE_WEB_THREADS", 16, minimum=1)
# Workers silent this long are restarted (a hung request); uploads stream, so this is not an upload limit.
timeout = env_int("ANNOTATE_WEB_TIMEOUT", 300, minimum=10)
keepalive = 5
control_socket = str(_data_dir / "gunicorn.ctl")
UPLOAD_IDLE_SECONDS = env_int("ANNOTATE_UPLOAD_IDLE_SECONDS", 60, minimum=1)


def pre_request(worker: Any, req: Any) -> None:
    # A blocking socket with a timeout: each recv() of the body waits at most this long.
    sock = getattr(getattr(req, "unreader", None), "sock", None)
    if sock is not None:
        sock.settimeout(UPLOAD_IDLE_SECONDS)


def post_request(worker: Any, req: Any, environ: Any, resp: Any) -> None:
    sock = getattr(getattr(req, "unreader", None), "sock", None)
    if sock is not None:
        sock.settimeout(None)  # back to what gthread expects between requests

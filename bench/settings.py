"""Settings for benchmark runs: the production settings plus a bench-only URLconf.

`bench.run` sets DATABASE_URL, CELERY_BROKER_URL, SECRET_KEY and DEBUG=0 for every
process it starts (gunicorn, the Celery worker, manage.py) before this is read.
"""

import os

from training.settings import *  # noqa: F403
from training.settings import ALLOWED_HOSTS

# `/bench/ping`: the trivial view HTTP figures are compared with.
ROOT_URLCONF = "bench.urls"
# Django's test Client, which the in-process measurements use, sends this host.
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]
# collectstatic writes here (a temporary directory), so pages render with the
# same manifest storage as production without touching the working tree.
STATIC_ROOT = os.environ.get("BENCH_STATIC_ROOT") or STATIC_ROOT  # noqa: F405

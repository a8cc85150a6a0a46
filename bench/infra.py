"""The services a run needs: its own PostgreSQL database, its own Redis database and
queue, a Celery worker per measurement, a gunicorn. Nothing here imports Django, so
`bench.run` can check the services and refuse to run before settings are read.
"""

import os
import platform
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
import traceback
from contextlib import closing
from pathlib import Path
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/preflight_bench"
DEFAULT_BROKER_URL = "redis://127.0.0.1:6379/3"


class Missing(Exception):
    """A service the benchmarks need is not there (exit 2)."""


def urls() -> tuple[str, str]:
    """BENCH_DATABASE_URL / BENCH_BROKER_URL, not DATABASE_URL / CELERY_BROKER_URL:
    a shell (or CI) that points those at a real database must never have it dropped."""
    database = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)
    broker = os.environ.get("BENCH_BROKER_URL", DEFAULT_BROKER_URL)
    name = urlparse(database).path.lstrip("/")
    if urlparse(database).scheme not in ("postgres", "postgresql", "pgsql"):
        raise Missing(f"BENCH_DATABASE_URL must be a PostgreSQL URL, not {database!r}")
    if "bench" not in name:
        raise Missing(
            f"refusing to recreate database {name!r}: the bench database's name must "
            "contain 'bench' (it is dropped and created anew on every run)"
        )
    if not broker.startswith("redis://"):
        raise Missing(f"BENCH_BROKER_URL must be a redis:// URL, not {broker!r}")
    if urlparse(broker).path.strip("/") in ("", "0"):
        raise Missing("BENCH_BROKER_URL must name a Redis database other than 0 (e.g. /3)")
    return database, broker


def _maintenance_url(database_url: str) -> str:
    return urlunparse(urlparse(database_url)._replace(path="/postgres"))


def check_services(database_url: str, broker_url: str) -> dict:
    """Versions of PostgreSQL and Redis, or Missing naming what does not answer."""
    import psycopg
    import redis

    try:
        with psycopg.connect(_maintenance_url(database_url), connect_timeout=3) as conn:
            pg_version = conn.execute("SHOW server_version").fetchone()[0]
    except psycopg.Error as exc:
        netloc = urlparse(database_url).netloc
        raise Missing(f"PostgreSQL at {netloc} does not answer: {exc}") from exc
    try:
        client = redis.Redis.from_url(broker_url, socket_connect_timeout=3, socket_timeout=3)
        redis_version = client.info("server")["redis_version"]
    except redis.RedisError as exc:
        raise Missing(f"Redis at {urlparse(broker_url).netloc} does not answer: {exc}") from exc
    return {"postgresql": pg_version, "redis": redis_version}


def recreate_database(database_url: str) -> None:
    import psycopg
    from psycopg import sql

    name = urlparse(database_url).path.lstrip("/")
    with psycopg.connect(_maintenance_url(database_url), autocommit=True) as conn:
        drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        conn.execute(drop.format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def child_env(database_url: str, broker_url: str, static_root: str, **extra: str) -> dict:
    """The environment of every process the run starts: production settings (DEBUG
    off, a real SECRET_KEY) against the bench database and broker."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATABASE_URL": database_url,
        "CELERY_BROKER_URL": broker_url,
        "SECRET_KEY": os.environ.get("BENCH_SECRET_KEY") or secrets.token_urlsafe(50),
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,testserver",
        "BENCH_STATIC_ROOT": static_root,
        "LOG_LEVEL": "WARNING",
        "PYTHONUNBUFFERED": "1",
        # Plain http on loopback: production's https redirect would answer every
        # request with a 301 (in production TLS ends at the proxy in front).
        "SECURE_SSL_REDIRECT": "0",
        # The API rate limit is evaluated on every call, as in production (counters
        # in Redis, as production keeps them), but set high enough never to refuse
        # the load generator.
        "PREFLIGHT_API_RATE": "10000000/min",
        "CACHE_URL": broker_url,
    }
    env.update(extra)
    return env


def manage(env: dict, *args: str) -> None:
    done = subprocess.run(
        [PYTHON, "manage.py", *args], env=env, cwd=ROOT, capture_output=True, text=True
    )
    if done.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def proc_status(pid: int, field: str) -> int:
    """A `kB` field of /proc/<pid>/status (VmHWM, VmRSS), in bytes."""
    text = Path(f"/proc/{pid}/status").read_text()
    match = re.search(rf"^{field}:\s+(\d+) kB", text, re.M)
    return int(match.group(1)) * 1024 if match else 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU a process has used (0.0 if it is gone or not visible)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Worker:
    """`celery -A training worker --pool=solo` on a queue of its own, as in
    tests/integration/conftest.py: the task runs in this very process, so its
    VmHWM is the task's peak memory."""

    def __init__(self, env: dict, queue: str, log: Path) -> None:
        self.queue, self.log_path = queue, log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [
                    PYTHON, "-m", "celery", "-A", "training", "worker",
                    "--pool=solo", "--concurrency=1", "--without-gossip", "--without-mingle",
                    "--without-heartbeat", "--loglevel=INFO", "-Q", queue, "-n", f"{queue}@%h",
                ],
                env={**env, "LOG_LEVEL": "INFO"},
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 60
        while " ready." not in self.log():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the Celery worker did not start:\n{self.log()}")
            time.sleep(0.1)

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        _stop(self.process)


class Gunicorn:
    def __init__(self, env: dict, *, workers: int, log: Path) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(
                [
                    PYTHON, "-m", "gunicorn", "training.wsgi", "--workers", str(workers),
                    "--bind", f"127.0.0.1:{self.port}", "--log-level", "warning",
                ],
                env=env,
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 60
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"gunicorn did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.2)

    def _answers(self) -> bool:
        import http.client

        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            conn.request("GET", "/bench/ping")
            return conn.getresponse().status == 200
        except OSError:
            return False

    def stop(self) -> None:
        _stop(self.process)


def machine(versions: dict) -> dict:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = re.search(r"^MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.M)
    wrk = None
    if has_wrk():
        wrk = subprocess.run(["wrk", "--version"], capture_output=True, text=True)
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gib": round(int(mem.group(1)) / 1024 / 1024, 1) if mem else None,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "postgresql": versions["postgresql"],
        "redis": versions["redis"],
        "wrk": (wrk.stdout or wrk.stderr).split("\n")[0].strip() if wrk else "not installed",
        "load_before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
    }


def has_wrk() -> bool:
    from shutil import which

    return which("wrk") is not None


def step(section: str, what: str) -> None:
    print(f"bench: [{section}] {what}", flush=True)


def guarded(results: dict, section: str, function, *args, **kwargs):
    """Run one section; a failure is reported (and in the report), the rest go on."""
    try:
        return function(*args, **kwargs)
    except Exception:  # one broken section must not hide the others
        results["errors"][section] = traceback.format_exc()
        print(f"bench: [{section}] failed:\n{results['errors'][section]}", file=sys.stderr)
        return None

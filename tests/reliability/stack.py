"""Real processes for failure tests: Celery workers, beat, gunicorn, a Redis of our own.

Everything here listens on 127.0.0.1 only, on ports the kernel picked, and is
stopped by the test that started it. A test that stops or restarts Redis uses a
redis-server it started itself: the shared one on 6379 is never touched.
"""

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings

from tests.integration.conftest import READY_TIMEOUT, ROOT, Worker, _database_url

PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(condition: Callable[[], bool], *, timeout: float, what: str, log=lambda: ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    pytest.fail(f"{what} did not happen within {timeout:.0f}s.\n{log()}")


def stop(process: subprocess.Popen, *, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
    """Stop a process this test started (and its children: it leads its own group)."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def stack_env(**extra: str) -> dict[str, str]:
    """The environment of a production-like process on the test database."""
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "training.settings",
        "DATABASE_URL": _database_url(),
        "DATABASE_CONN_MAX_AGE": "0",
        "SECRET_KEY": settings.SECRET_KEY,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        # Plain http on the loopback: the https redirect and cookies are for production.
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def start_worker(
    *, log: Path, env: dict[str, str], queue: str | None = None, concurrency: int = 2
) -> Worker:
    """A prefork worker, as production runs it, in its own process group so that
    `stop(worker.process, sig=SIGKILL)` kills it whole, as a lost machine would."""
    args = [
        PYTHON, "-m", "celery", "-A", "training", "worker",
        "--pool=prefork", f"--concurrency={concurrency}",
        "--without-gossip", "--without-mingle", "--without-heartbeat",
        "--loglevel=INFO",
    ]  # fmt: skip
    if queue:
        args += ["-Q", queue, "-n", f"{queue}-{time.monotonic_ns()}@%h"]
    # A log may be shared by a killed worker and its successor: wait for one more
    # " ready." than it holds now.
    readies = log.read_text(errors="replace").count(" ready.") if log.exists() else 0
    with log.open("ab") as out:
        process = subprocess.Popen(
            args, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    worker = Worker(process, log, queue or "celery")
    deadline = time.monotonic() + READY_TIMEOUT
    while worker.log().count(" ready.") <= readies:
        if process.poll() is not None or time.monotonic() > deadline:
            stop(process)
            pytest.fail(f"The Celery worker did not start. Its log:\n{worker.log()}")
        time.sleep(0.1)
    return worker


class RedisServer:
    """A redis-server of this test's own, on a free port, that the test may stop and
    start again (same port, empty: nothing is saved)."""

    def __init__(self, workdir: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.fail("redis-server is not installed")
        self.binary, self.workdir, self.port = binary, workdir, free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                self.binary, "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--daemonize", "no",
                "--dir", str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )  # fmt: skip
        wait_until(self.answers, timeout=20, what=f"redis-server on {self.port}")

    def answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process is not None:
            stop(self.process)
            self.process = None


class WebServer:
    """gunicorn serving training.wsgi, as in production."""

    def __init__(self, *, env: dict[str, str], log: Path, workers: int = 1) -> None:
        self.port = free_port()
        self.log_path = log
        with log.open("ab") as out:
            self.process = subprocess.Popen(
                [
                    PYTHON, "-m", "gunicorn", "training.wsgi",
                    "--bind", f"127.0.0.1:{self.port}", "--workers", str(workers),
                    "--timeout", "60", "--graceful-timeout", "5",
                ],
                env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        wait_until(self._up, timeout=60, what="gunicorn", log=self.log)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def _up(self) -> bool:
        if self.process.poll() is not None:
            pytest.fail(f"gunicorn exited. Its log:\n{self.log()}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                return True
        except OSError:
            return False

    def request(
        self, method: str, path: str, *, token: str | None = None, body: bytes | None = None
    ) -> tuple[int, bytes, float]:
        """(status, body, seconds taken)."""
        headers = {"Content-Type": "application/json", "Host": "127.0.0.1"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=body, method=method, headers=headers
        )
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status, response.read(), time.monotonic() - started
        except urllib.error.HTTPError as error:
            return error.code, error.read(), time.monotonic() - started

    def stop(self) -> None:
        stop(self.process)


class TcpProxy:
    """A TCP proxy on the loopback that a test controls: forward to a server, cut
    every open connection (a network failure mid-request), or refuse new ones (the
    server unreachable). It stands between one test process and the shared
    PostgreSQL, which itself is never stopped."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        import threading

        self.target = (target_host, target_port)
        self.accepting = True
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        import threading

        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            if not self.accepting:
                client.close()
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(source, sink), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                self._close(sock)

    def _close(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.discard(sock)
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
        sock.close()

    def cut(self) -> None:
        """Drop every open connection, and refuse new ones until `restore`."""
        self.accepting = False
        with self._lock:
            open_sockets = list(self._sockets)
        for sock in open_sockets:
            self._close(sock)

    def restore(self) -> None:
        self.accepting = True

    def close(self) -> None:
        self.cut()
        self._listener.close()

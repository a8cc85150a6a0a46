"""HTTP load with wrk against gunicorn (2 sync workers, loopback): quiz submission,
readiness, and a trivial view on the same server as the floor to compare with."""

import http.client
import re
import secrets
import subprocess
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.utils import timezone

from bench import data
from core.actors import SYSTEM
from training.i18n import SESSION_KEY as LANGUAGE_SESSION_KEY
from training.models import Attempt, Engineer
from training.services.assignments import assignments_create_manual
from training.services.attempts import quiz_snapshot

WRK_DIR = Path(__file__).resolve().parent / "wrk"


@dataclass
class LoadResult:
    name: str
    path: str
    requests: int = 0
    rps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    errors: str = ""
    ratio: float | None = None  # rps / the trivial view's rps
    note: str = ""


def prepare_quiz(attempts: int, workdir: Path) -> dict:
    """`attempts` engineers, each with the course assigned and one open attempt of
    its quiz, and a signed-in session: the lines wrk's script reads."""
    _, teams = data.sdk_with_teams("bench-quiz", teams=4)
    ids = data.engineers("quiz", teams=teams, active=attempts)
    skill_list = data.skills("bench-quiz-skill", 5)
    course, quiz = data.quiz_course(None, "bench-quiz-course", skill_list)
    assignments_create_manual(
        course=course, engineer_ids=ids, due_at=timezone.now() + timedelta(days=7), actor=SYSTEM
    )
    snapshot = quiz_snapshot(quiz=quiz, seed=1)
    data.sql(
        """
        INSERT INTO training_attempt (number, pass_mark, snapshot, answers, skill_scores,
                                      started_at, engineer_id, quiz_id, assignment_id)
        SELECT 1, %s, %s::jsonb, '{}', '{}', now(), a.engineer_id, %s, a.id
        FROM training_assignment a WHERE a.course_id = %s
        """,
        [quiz.pass_mark, _json(snapshot), quiz.pk, course.pk],
    )
    # Every answer right: the full path (grade, skill records, assignment progress).
    body = urlencode(
        [
            (f"q{question['id']}", choice["key"])
            for question in snapshot["questions"]
            for choice in question["choices"]
            if choice["correct"]
        ]
    )
    users = {
        user.pk: user
        for user in get_user_model().objects.filter(engineer__pk__in=ids).only("id", "password")
    }
    languages = dict(Engineer.objects.filter(pk__in=ids).values_list("user_id", "language"))
    csrf = secrets.token_hex(16)  # a 32-character secret, sent as cookie and header
    expiry = timezone.now() + timedelta(days=1)
    sessions, lines = [], []
    rows = Attempt.objects.filter(quiz=quiz).values_list("pk", "engineer__user_id").order_by("pk")
    for attempt_id, user_id in rows:
        key = secrets.token_hex(16)
        session_data = SessionStore().encode(
            {
                SESSION_KEY: str(user_id),
                BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                HASH_SESSION_KEY: users[user_id].get_session_auth_hash(),
                # As sign-in leaves it: without it, every request would save the session.
                LANGUAGE_SESSION_KEY: languages[user_id],
            }
        )
        sessions.append(Session(session_key=key, session_data=session_data, expire_date=expiry))
        cookie = f"{settings.SESSION_COOKIE_NAME}={key}; {settings.CSRF_COOKIE_NAME}={csrf}"
        lines.append(f"/attempts/{attempt_id}/\t{cookie}\t{csrf}\t{body}")
    Session.objects.bulk_create(sessions, batch_size=2000)
    items = workdir / "quiz-items.tsv"
    items.write_text("\n".join(lines[1:]) + "\n")
    return {"quiz": quiz, "items": items, "first": lines[0], "count": len(lines) - 1}


def _json(value) -> str:
    import json

    return json.dumps(value)


def check_quiz_submission(port: int, first_line: str, quiz) -> None:
    """One submission by hand before the load: a redirect, and the attempt graded."""
    path, cookie, csrf, body = first_line.split("\t")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request(
        "POST",
        path,
        body=body,
        headers={
            "Cookie": cookie,
            "X-CSRFToken": csrf,
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    response = conn.getresponse()
    text = response.read()[:500]
    attempt = Attempt.objects.get(pk=int(path.strip("/").split("/")[1]))
    if response.status != 302 or not attempt.passed:
        raise RuntimeError(
            f"a quiz submission answered {response.status} (graded: {attempt.submitted_at}, "
            f"passed: {attempt.passed}): {text!r}"
        )


_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _latency(text: str, percentile: str) -> float:
    match = re.search(rf"^\s+{percentile}%\s+([0-9.]+)(us|ms|s|m)\s*$", text, re.M)
    return float(match.group(1)) * _UNITS[match.group(2)] if match else float("nan")


def wrk(
    name: str,
    base: str,
    path: str,
    *,
    seconds: int,
    threads: int = 2,
    connections: int = 4,
    headers: dict | None = None,
    script: Path | None = None,
    script_args: list[str] | None = None,
    log: Path,
) -> LoadResult:
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency"]
    command += ["--timeout", "10s"]
    for header, value in (headers or {}).items():
        command += ["-H", f"{header}: {value}"]
    if script:
        command += ["-s", str(script)]
    command.append(base + path)
    if script_args:
        command += ["--", *script_args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    with log.open("a") as out:
        out.write(f"$ {' '.join(command)}\n{done.stdout}\n{done.stderr}\n")
    text = done.stdout
    if done.returncode or "Requests/sec" not in text:
        raise RuntimeError(f"wrk failed ({done.returncode}): {done.stderr or text}")
    requests = re.search(r"(\d+) requests in", text)
    errors = []
    if match := re.search(r"Non-2xx or 3xx responses: (\d+)", text):
        errors.append(f"{match.group(1)} non-2xx/3xx")
    if match := re.search(r"Socket errors: (.*)", text):
        errors.append(f"socket errors: {match.group(1).strip()}")
    return LoadResult(
        name=name,
        path=path,
        requests=int(requests.group(1)) if requests else 0,
        rps=float(re.search(r"Requests/sec:\s+([0-9.]+)", text).group(1)),
        p50_ms=_latency(text, "50"),
        p99_ms=_latency(text, "99"),
        errors="; ".join(errors),
    )


def quiz_graded(quiz) -> int:
    return Attempt.objects.filter(quiz=quiz, submitted_at__isnull=False).count()

"""Question banks: starting an attempt that draws 20 questions from a pool of
2,000 (queries and time), and submitting a 20-question attempt of mixed kinds
(statements), both through the services the quiz pages call."""

import statistics
import time
from dataclasses import dataclass

from django.db import connection, reset_queries, transaction
from django.test.utils import CaptureQueriesContext

from bench import data
from core.actors import SYSTEM
from training.models import Attempt, Engineer
from training.services.attempts import attempt_start, attempt_submit
from training.services.courses import course_save

POOL = 2000
DRAW = 20
START_QUERIES_MAX = 10
START_MS_MAX = 50.0
SUBMIT_STATEMENTS_MAX = 15


@dataclass
class QuestionsResult:
    start_queries: int
    start_median_ms: float
    start_p95_ms: float
    submit_statements: int
    starts: int


def _pool_question(n: int) -> dict:
    kind = n % 4
    base = {"prompt": f"Pool question {n}", "skill": "bench-q-skill-0"}
    if kind == 0:
        return base | {
            "kind": "single",
            "choices": [{"text": "right", "correct": True}, {"text": "wrong"}, {"text": "no"}],
        }
    if kind == 1:
        return base | {"kind": "true_false", "answer": True}
    if kind == 2:
        return base | {"kind": "numeric", "value": n, "tolerance": 0.5}
    return base | {"kind": "ordering", "items": ["a", "b", "c"], "partial": True}


def prepare(engineers: int) -> dict:
    """A course whose quiz draws DRAW questions from a pool of POOL mixed ones, and
    `engineers` engineers to start attempts."""
    _, teams = data.sdk_with_teams("bench-q", teams=1)
    ids = data.engineers("bq", teams=teams, active=engineers)
    data.skills("bench-q-skill", 1)
    document = {
        "title": "Bench question bank",
        "release": None,
        "lessons": [],
        "quiz": {
            "pass_mark": 50,
            "max_attempts": 100,
            "questions": [],
            "pools": [{"name": "big", "questions": [_pool_question(n) for n in range(POOL)]}],
            "slots": [{"pool": "big", "draw": DRAW}],
        },
    }
    course, _ = course_save(slug="bench-question-bank", document=document, actor=SYSTEM)
    return {"quiz": course.quiz, "engineers": list(Engineer.objects.filter(pk__in=ids))}


def _right(attempt: Attempt) -> dict[str, list[str]]:
    answers = {}
    for q in attempt.snapshot["questions"]:
        if q["kind"] == "single":
            value = [c["key"] for c in q["choices"] if c["correct"]]
        elif q["kind"] == "true_false":
            value = ["true"]
        elif q["kind"] == "numeric":
            value = [str(q["value"])]
        else:
            place = {key: str(n) for n, key in enumerate(q["order"], start=1)}
            value = [place[item["key"]] for item in q["items"]]
        answers[str(q["id"])] = value
    return answers


def measure(prep: dict) -> QuestionsResult:
    quiz, engineers = prep["quiz"], prep["engineers"]
    # Warm: the first start pays for connection set-up and imports.
    attempt_start(engineer=engineers[0], quiz=quiz)
    samples = []
    start_queries = 0
    for engineer in engineers[1:]:
        reset_queries()
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            attempt = attempt_start(engineer=engineer, quiz=quiz)
            samples.append((time.perf_counter() - began) * 1000)
        start_queries = max(start_queries, len(captured.captured_queries))
        assert len(attempt.snapshot["questions"]) == DRAW
    attempt = Attempt.objects.select_related(
        "quiz__course", "assignment__course", "assignment__engineer"
    ).get(pk=attempt.pk)
    answers = _right(attempt)
    reset_queries()
    with CaptureQueriesContext(connection) as captured, transaction.atomic():
        attempt_submit(attempt=attempt, answers=answers)
    samples.sort()
    return QuestionsResult(
        start_queries=start_queries,
        start_median_ms=statistics.median(samples),
        start_p95_ms=samples[int(len(samples) * 0.95) - 1],
        submit_statements=len(captured.captured_queries),
        starts=len(samples),
    )

"""Question banks: starting an attempt that draws 20 questions from a pool of
2,000 (queries and time), and submitting a 20-question attempt of mixed kinds
(statements), both through the services the quiz pages call; and the item analysis
of that quiz over 1,000,000 answers (50,000 graded attempts of 20 questions, made
set-based) through the selector the authors' page calls."""

import statistics
import time
from dataclasses import dataclass

from django.db import connection, reset_queries, transaction
from django.test.utils import CaptureQueriesContext

from bench import data
from core.actors import SYSTEM
from training.models import Attempt, AttemptAnswer, Engineer
from training.selectors.item_analysis import item_analysis
from training.services.attempts import attempt_start, attempt_submit
from training.services.courses import course_save

POOL = 2000
DRAW = 20
START_QUERIES_MAX = 10
START_MS_MAX = 50.0
SUBMIT_STATEMENTS_MAX = 15
ITEM_ATTEMPTS = 50_000
ITEM_ANSWERS = ITEM_ATTEMPTS * DRAW
ITEM_MS_MAX = 1000.0


@dataclass
class QuestionsResult:
    start_queries: int
    start_median_ms: float
    start_p95_ms: float
    submit_statements: int
    starts: int
    item_answers: int = 0
    item_median_ms: float = 0.0
    item_queries: int = 0


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


def prepare_items(prep: dict) -> int:
    """ITEM_ATTEMPTS graded attempts at the bank's quiz (numbered from 100, after
    the measured ones) and their DRAW answer rows each: two INSERT … SELECT over
    generate_series. Each attempt has an "ability" (its id mod 100): it gets a
    question right with that probability, so marks correlate with the rest of the
    attempt as real ones do. Returns the answer rows of the quiz."""
    quiz = prep["quiz"]
    ids = [engineer.pk for engineer in prep["engineers"]]
    data.sql(
        """
        INSERT INTO training_attempt (engineer_id, quiz_id, number, pass_mark, snapshot,
            answers, skill_scores, started_at, submitted_at, score, passed)
        SELECT (%s::bigint[])[1 + g %% cardinality(%s::bigint[])], %s,
            100 + g / cardinality(%s::bigint[]), 50, '{}', '{}', '{}',
            now() - interval '1 day',
            now() - interval '1 day' + (300 + g %% 600) * interval '1 second',
            g %% 101, g %% 101 >= 50
        FROM generate_series(0, %s - 1) AS g
        """,
        [ids, ids, quiz.pk, ids, ITEM_ATTEMPTS],
    )
    data.sql(
        """
        INSERT INTO training_attemptanswer (attempt_id, quiz_id, engineer_id, uid, version,
            kind, feature, skill, mark, rest, picked, seconds, graded_at)
        SELECT a.id, a.quiz_id, a.engineer_id, 'big#' || (k + 1), 1,
            (ARRAY['single', 'true_false', 'numeric', 'ordering'])[1 + k %% 4],
            (ARRAY['edit', 'reconnect', 'push', 'presence'])[1 + (k / 4) %% 4],
            'bench-q-skill-0', m, (a.id %% 100) / 100.0 * 19 + random(),
            CASE WHEN k %% 4 = 0 THEN CASE WHEN m = 1 THEN 1 ELSE 2 END
                 WHEN k %% 4 = 1 THEN CASE WHEN m = 1 THEN 1 ELSE 2 END ELSE 0 END,
            (300 + a.id %% 600) / 20.0, now()
        FROM training_attempt a
        CROSS JOIN generate_series(0, %s - 1) AS q
        CROSS JOIN LATERAL (SELECT (a.id * 7 + q * 101) %% %s AS k) AS pick
        CROSS JOIN LATERAL (
            SELECT CASE WHEN random() < (a.id %% 100) / 100.0 THEN 1.0 ELSE 0.0 END AS m
        ) AS graded
        WHERE a.quiz_id = %s AND a.number >= 100
        """,
        [DRAW, POOL, quiz.pk],
    )
    data.analyze()
    return AttemptAnswer.objects.filter(quiz=quiz).count()


def measure_items(prep: dict, result: QuestionsResult, *, runs: int = 5) -> QuestionsResult:
    """The item analysis of the bank's quiz: median of `runs` after one warm run."""
    quiz = prep["quiz"]
    result.item_answers = prepare_items(prep)
    item_analysis(quiz=quiz)
    samples = []
    for _ in range(runs):
        with CaptureQueriesContext(connection) as captured:
            began = time.perf_counter()
            analysis = item_analysis(quiz=quiz)
            samples.append((time.perf_counter() - began) * 1000)
        result.item_queries = len(captured.captured_queries)
    assert analysis.answers == result.item_answers
    result.item_median_ms = statistics.median(samples)
    return result

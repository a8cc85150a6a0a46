"""Item analysis of a quiz: how each question (and each version of it) performs,
and where engineers are weakest, from the per-question rows of graded attempts
(training.models.AttemptAnswer) — aggregated in SQL, a handful of queries whatever
the number of answers.

Per question and version:
- facility: the mean share of the mark earned (Moodle's facility index; partial
  credit counts in part), and `right`, the share of answers with the whole mark;
- discrimination: the Pearson correlation of the question's mark with the rest of
  the attempt (the attempt's other questions' marks, so the question does not
  correlate with itself). PostgreSQL's `corr()`; on SQLite the five sums are
  aggregated in SQL and the quotient taken per question. None when either side
  never varies (everyone right, say);
- seconds: the mean time, as the attempt's duration shared equally among its
  questions — the quiz is one form, so no time per question is recorded;
- choices: for single, multiple and true/false, how many answers picked each
  choice (in the author's order; a version whose choices are no longer the live
  ones is labelled from an attempt that saw it).

Per feature and region: answers and facility, weakest first.
"""

import math
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Avg, Case, Count, F, FloatField, IntegerField, Max, Min, Sum, When
from django.db.models.functions import Cast

from courses.models import Choice, Question, Quiz
from training.models import Attempt, AttemptAnswer

# Choices counted per question (bits of AttemptAnswer.picked); more is rare.
MAX_CHOICES = 12
CHOICE_KINDS = ("single", "multiple", "true_false")
# Below this, a question hardly separates those who know from those who do not.
LOW_DISCRIMINATION = 0.2


@dataclass(frozen=True, slots=True)
class ChoiceShare:
    text: str
    correct: bool
    count: int
    share: float  # of the question's answers


@dataclass(slots=True)
class Item:
    uid: str
    version: int
    current: bool  # the version the quiz asks now
    kind: str
    feature: str
    prompt: str
    answers: int
    facility: float
    right: float
    discrimination: float | None
    seconds: float | None
    choices: list[ChoiceShare] = field(default_factory=list)

    @property
    def weak(self) -> bool:
        return self.discrimination is None or self.discrimination < LOW_DISCRIMINATION


@dataclass(frozen=True, slots=True)
class Topic:
    feature: str
    region: str
    answers: int
    facility: float


@dataclass(frozen=True, slots=True)
class ItemAnalysis:
    items: list[Item]
    topics: list[Topic]

    @property
    def answers(self) -> int:
        return sum(item.answers for item in self.items)


def _bit(n: int):
    return Sum(F("picked").bitrightshift(n).bitand(1), output_field=IntegerField())


def _per_version(quiz: Quiz):
    rows = AttemptAnswer.objects.filter(quiz=quiz).values("uid", "version")
    aggregates = {
        "n": Count("pk"),
        "facility": Avg("mark"),
        "right": Sum(Case(When(mark__gte=1, then=1), default=0, output_field=IntegerField())),
        "seconds": Avg("seconds"),
        "kind": Max("kind"),
        "feature": Max("feature"),
        "first": Min("attempt_id"),
        **{f"c{n}": _bit(n) for n in range(MAX_CHOICES)},
    }
    if connection.vendor == "postgresql":
        from django.contrib.postgres.aggregates import Corr

        aggregates["corr"] = Corr("mark", "rest")
    else:
        mark, rest = Cast("mark", FloatField()), Cast("rest", FloatField())
        aggregates |= {
            "sx": Sum(mark),
            "sy": Sum(rest),
            "sxy": Sum(mark * rest),
            "sxx": Sum(mark * mark),
            "syy": Sum(rest * rest),
        }
    return rows.annotate(**aggregates).order_by("uid", "version")


def _pearson(row: dict) -> float | None:
    if "corr" in row:
        return row["corr"]
    n = row["n"]
    cov = n * row["sxy"] - row["sx"] * row["sy"]
    var = (n * row["sxx"] - row["sx"] ** 2) * (n * row["syy"] - row["sy"] ** 2)
    if var <= 1e-12:
        return None
    return max(-1.0, min(1.0, cov / math.sqrt(var)))


def _labels(
    quiz: Quiz, old: dict[tuple[str, int], int]
) -> tuple[dict[tuple[str, int], dict], dict[str, int]]:
    """(uid, version) → {"prompt", "choices": [(text, correct)], "answer"}: the live
    questions (two queries) and, for versions no longer live, the snapshot of the
    first attempt that answered each (one query); and each live uid's version."""
    labels: dict[tuple[str, int], dict] = {}
    live = list(
        Question.objects.filter(quiz=quiz).values_list("pk", "uid", "version", "prompt", "spec")
    )
    choices: dict[int, list[tuple[str, bool]]] = {}
    for question_id, text, correct in Choice.objects.filter(question__quiz=quiz).values_list(
        "question_id", "text", "correct"
    ):  # in position order (Choice.Meta.ordering)
        choices.setdefault(question_id, []).append((text, correct))
    for pk, uid, version, prompt, spec in live:
        labels[(uid, version)] = {
            "prompt": prompt,
            "choices": choices.get(pk, []),
            "answer": (spec or {}).get("answer"),
        }
    wanted = {key: first for key, first in old.items() if key not in labels}
    if wanted:
        snapshots = dict(
            Attempt.objects.filter(pk__in=set(wanted.values())).values_list("pk", "snapshot")
        )
        for (uid, version), first in wanted.items():
            for question in (snapshots.get(first) or {}).get("questions", []):
                if question.get("uid") == uid and (question.get("version") or 1) == version:
                    shown = sorted(
                        question.get("choices", []),
                        key=lambda c: (c.get("position") or 0, c["id"]),
                    )
                    labels[(uid, version)] = {
                        "prompt": question["prompt"],
                        "choices": [(c["text"], bool(c.get("correct"))) for c in shown],
                        "answer": question.get("answer"),
                    }
    return labels, {uid: version for _, uid, version, _, _ in live}


def _choices(kind: str, row: dict, label: dict) -> list[ChoiceShare]:
    """How many answers picked each choice. True/false: "true" and "false" (the
    page words them; which is right is the version's key, in `label`)."""
    if kind not in CHOICE_KINDS:
        return []
    n = row["n"] or 1
    texts = (
        [("true", label.get("answer") is True), ("false", label.get("answer") is False)]
        if kind == "true_false"
        else label.get("choices", [])[:MAX_CHOICES]
    )
    return [
        ChoiceShare(text, correct, row[f"c{i}"] or 0, (row[f"c{i}"] or 0) / n)
        for i, (text, correct) in enumerate(texts)
    ]


def item_analysis(*, quiz: Quiz) -> ItemAnalysis:
    """The quiz's item analysis; see the module. Four or five queries."""
    rows = list(_per_version(quiz))
    labels, current = _labels(quiz, {(r["uid"], r["version"]): r["first"] for r in rows})
    items = []
    for row in rows:
        key = (row["uid"], row["version"])
        label = labels.get(key, {})
        items.append(
            Item(
                uid=row["uid"],
                version=row["version"],
                current=current.get(row["uid"]) == row["version"],
                kind=row["kind"],
                feature=row["feature"],
                prompt=label.get("prompt", ""),
                answers=row["n"],
                facility=row["facility"] or 0.0,
                right=(row["right"] or 0) / (row["n"] or 1),
                discrimination=_pearson(row),
                seconds=row["seconds"],
                choices=_choices(row["kind"], row, label),
            )
        )
    topics = [
        Topic(feature=r["feature"], region=r["region"], answers=r["n"], facility=r["facility"])
        for r in AttemptAnswer.objects.filter(quiz=quiz)
        .exclude(feature="")
        .values("feature", region=F("engineer__region"))
        .annotate(n=Count("pk"), facility=Avg("mark"))
        .order_by("facility", "feature", "region")
    ]
    return ItemAnalysis(items=items, topics=topics)

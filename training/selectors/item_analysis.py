"""Item analysis of a quiz: how each question (and each version of it) performs,
and where engineers are weakest, from the per-question rows of graded attempts
(training.models.AttemptAnswer) — aggregated in SQL, a handful of queries whatever
the number of answers.

Per question and version:
- facility: the mean share of the mark earned (Moodle's facility index; partial
  credit counts in part), and `right`, the share of answers with the whole mark;
- discrimination: the Pearson correlation of the question's mark with the rest of
  the attempt (the attempt's other questions' marks, so the question does not
  correlate with itself). Its sums (n, Σx, Σy, Σxy, Σx², Σy²) are aggregated in
  SQL, on PostgreSQL and SQLite alike, and the quotient is taken per question: the
  same number `corr()` gives, in the one pass that also counts the choices
  (PostgreSQL's `corr()` beside twelve per-choice sums took 1.04 s over 1,000,000
  answers; the sums grouped by choice set take a quarter of that). None when either
  side never varies (everyone right, say);
- seconds: the mean time, as the attempt's duration shared equally among its
  questions — the quiz is one form, so no time per question is recorded;
- choices: for single, multiple and true/false, how many answers picked each
  choice (in the author's order; a version whose choices are no longer the live
  ones is labelled from an attempt that saw it).

Per feature and region: answers and facility, weakest first.
"""

import math
from dataclasses import dataclass, field

from django.db.models import Avg, Case, Count, F, FloatField, IntegerField, Min, Sum, When

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


def _groups(quiz: Quiz):
    """The quiz's answers grouped by question, version and the set of choices
    picked, with the sums the statistics are made of. Sums add up across groups,
    so one pass serves the facility, the correlation (from n, Σx, Σy, Σxy, Σx², Σy²)
    and the choice distribution (each group's count goes to every choice its set
    holds); no text is aggregated, which is what made PostgreSQL slow."""
    mark, rest = F("mark"), F("rest")
    return (
        AttemptAnswer.objects.filter(quiz=quiz)
        .values("uid", "version", "picked")
        .annotate(
            n=Count("pk"),
            sx=Sum(mark),
            sy=Sum(rest),
            sxy=Sum(mark * rest, output_field=FloatField()),
            sxx=Sum(mark * mark, output_field=FloatField()),
            syy=Sum(rest * rest, output_field=FloatField()),
            timed=Count("seconds"),
            time=Sum("seconds"),
            right=Sum(Case(When(mark__gte=1, then=1), default=0, output_field=IntegerField())),
            first=Min("attempt_id"),
        )
        .order_by()
    )


@dataclass(slots=True)
class _Sums:
    n: int = 0
    sx: float = 0.0
    sy: float = 0.0
    sxy: float = 0.0
    sxx: float = 0.0
    syy: float = 0.0
    seconds: float = 0.0
    timed: int = 0
    right: int = 0
    first: int = 0
    picked: dict[int, int] = field(default_factory=dict)  # choice bit → answers

    def add(self, row: dict) -> None:
        self.n += row["n"]
        self.sx += row["sx"] or 0.0
        self.sy += row["sy"] or 0.0
        self.sxy += row["sxy"] or 0.0
        self.sxx += row["sxx"] or 0.0
        self.syy += row["syy"] or 0.0
        self.seconds += row["time"] or 0.0
        self.timed += row["timed"]
        self.right += row["right"] or 0
        self.first = min(self.first or row["first"], row["first"])
        bits, place = row["picked"] or 0, 0
        while bits and place < MAX_CHOICES:
            if bits & 1:
                self.picked[place] = self.picked.get(place, 0) + row["n"]
            bits >>= 1
            place += 1

    def pearson(self) -> float | None:
        """The correlation of mark and rest; None when either never varies."""
        n = self.n
        var = (n * self.sxx - self.sx**2) * (n * self.syy - self.sy**2)
        if n < 2 or var <= 1e-9:
            return None
        return max(-1.0, min(1.0, (n * self.sxy - self.sx * self.sy) / math.sqrt(var)))


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
            Attempt.objects.filter(pk__in=set(wanted.values()))
            .order_by()
            .values_list("pk", "snapshot")
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


def _choices(kind: str, total: "_Sums", label: dict) -> list[ChoiceShare]:
    """How many answers picked each choice. True/false: "true" and "false" (the
    page words them; which is right is the version's key, in `label`)."""
    if kind not in CHOICE_KINDS:
        return []
    n = total.n or 1
    texts = (
        [("true", label.get("answer") is True), ("false", label.get("answer") is False)]
        if kind == "true_false"
        else label.get("choices", [])[:MAX_CHOICES]
    )
    return [
        ChoiceShare(text, correct, total.picked.get(i, 0), total.picked.get(i, 0) / n)
        for i, (text, correct) in enumerate(texts)
    ]


def item_analysis(*, quiz: Quiz) -> ItemAnalysis:
    """The quiz's item analysis; see the module. Five or six queries: the grouped
    sums, the kind and feature of each version (from its first answer), the live
    questions and their choices, the snapshots of versions no longer live, and the
    topics."""
    sums: dict[tuple[str, int], _Sums] = {}
    for row in _groups(quiz):
        sums.setdefault((row["uid"], row["version"]), _Sums()).add(row)
    shape = {
        (uid, version): (kind, feature)
        for uid, version, kind, feature in AttemptAnswer.objects.filter(
            attempt_id__in={total.first for total in sums.values()}
        ).values_list("uid", "version", "kind", "feature")
    }
    labels, current = _labels(quiz, {key: total.first for key, total in sums.items()})
    items = []
    for (uid, version), total in sorted(sums.items()):
        kind, feature = shape.get((uid, version), ("", ""))
        label = labels.get((uid, version), {})
        n = total.n or 1
        items.append(
            Item(
                uid=uid,
                version=version,
                current=current.get(uid) == version,
                kind=kind,
                feature=feature,
                prompt=label.get("prompt", ""),
                answers=total.n,
                facility=total.sx / n,
                right=total.right / n,
                discrimination=total.pearson(),
                seconds=total.seconds / total.timed if total.timed else None,
                choices=_choices(kind, total, label),
            )
        )
    topics = [
        Topic(feature=r["feature"], region=r["region"], answers=r["n"], facility=r["facility"])
        for r in AttemptAnswer.objects.filter(quiz=quiz)
        .exclude(feature="")
        # Region first: PostgreSQL groups the short key faster.
        .values(region=F("engineer__region"))
        .annotate(feature=F("feature"), n=Count("pk"), facility=Avg("mark"))
        .order_by("facility", "feature", "region")
    ]
    return ItemAnalysis(items=items, topics=topics)

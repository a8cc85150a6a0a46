"""Course documents: the one shape a course is written in, and its one validator.

A course document (JSON or YAML; see API.md, `PUT /api/v1/courses/{slug}/`) holds
the course's title, its release, its lessons and its quiz. The API, `manage.py
import_course` and the admin all validate through `document_validate`, so a
document is accepted or refused the same way everywhere, with errors that name
the field path the DRF way (`{"quiz": {"questions": [{}, {"choices": [...]}]}}`).

`course_to_document` is the inverse: document → course → document gives back the
same document (with defaults filled in), which is what `export_course` writes.
"""

import math
from collections import Counter
from typing import Any, NotRequired, TypedDict, cast

from django.contrib.auth import get_user_model
from django.utils.translation import gettext
from rest_framework import serializers
from rest_framework.fields import empty
from rest_framework.settings import api_settings

from core.errors import InvalidInput
from courses.models import (
    Choice,
    Course,
    Feature,
    Lesson,
    Question,
    QuestionPool,
    Quiz,
    QuizSlot,
    Release,
    Skill,
)
from courses.versions import MAX_VERSION_LENGTH, InvalidVersion, Version

MAX_LESSONS = 500
MAX_QUESTIONS = 500
MAX_CHOICES = 26
MAX_RECERTIFIES = 100
MAX_POOLS = 50
MAX_POOL_QUESTIONS = 5000
MAX_SLOTS = 500
MAX_ITEMS = 26
MAX_ANSWERS = 50
# Kinds graded by a computer from what the question stores (every kind but essay).
CHOICE_KINDS = frozenset({Question.Kind.SINGLE, Question.Kind.MULTIPLE})


# --- a validated document, references resolved (what `document_validate` returns) ---


class ChoiceSpec(TypedDict):
    text: str
    correct: bool
    fraction: float | None


class QuestionSpec(TypedDict):
    id: str | None  # the document's own name for the question, if it gives one
    prompt: str
    kind: str  # a Question.Kind value
    skill: Skill | None
    feature: Feature | None
    explanation: str
    choices: list[ChoiceSpec]  # a choice question's, or a scenario's choice question's
    spec: dict  # the kind's other fields, as Question.spec stores them


class PoolSpec(TypedDict):
    name: str
    questions: list[QuestionSpec]


class SlotSpec(TypedDict):
    question: int | None  # index into the quiz's `questions`
    pool: str | None
    draw: int | None
    feature: Feature | None


class QuizSpec(TypedDict):
    pass_mark: int
    max_attempts: int
    review: str
    questions: list[QuestionSpec]
    pools: list[PoolSpec]
    slots: list[SlotSpec]


class LessonSpec(TypedDict):
    title: str
    body: str
    feature: Feature | None


class CourseSpec(TypedDict):
    slug: NotRequired[str]  # optional in a document; course_put sets it from the URL
    title: str
    description: str
    release: Release | None
    language: str  # a Course.Language value
    status: str  # a Course.Status value
    recertifies: list[Skill]  # in the document's order, without repeats
    owner: NotRequired[Any]  # a user, or None; absent: the course keeps its owner
    verify_every_days: NotRequired[int]
    lessons: list[LessonSpec]
    quiz: QuizSpec | None


class MarkdownField(serializers.CharField):
    """Text kept exactly as written (leading indentation is Markdown), but not blank."""

    def __init__(self, **kwargs):
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not self.allow_blank and not value.strip():
            self.fail("blank")
        return value


class DocumentListSerializer(serializers.ListSerializer):
    """Errors about the list itself (too short, not a list) as `{"lessons": [msg]}`,
    not DRF's `{"lessons": {"non_field_errors": [msg]}}`; item errors stay a list."""

    def run_validation(self, data=empty):
        try:
            return super().run_validation(data)
        except serializers.ValidationError as exc:
            detail = exc.detail
            if isinstance(detail, dict) and set(detail) == {api_settings.NON_FIELD_ERRORS_KEY}:
                raise serializers.ValidationError(
                    detail[api_settings.NON_FIELD_ERRORS_KEY]
                ) from exc
            raise


class ReleaseRefDocumentSerializer(serializers.Serializer):
    sdk = serializers.SlugField(max_length=64, help_text="SDK slug, e.g. rtm-android.")
    version = serializers.CharField(
        max_length=MAX_VERSION_LENGTH, help_text="Semantic version; a leading v is dropped."
    )

    def validate_version(self, value: str) -> str:
        try:
            return str(Version.parse(value))
        except InvalidVersion as exc:
            raise serializers.ValidationError(str(exc)) from exc

    def validate(self, attrs) -> Release:
        release = (
            Release.objects.select_related("sdk")
            .filter(sdk__slug=attrs["sdk"], version=attrs["version"])
            .first()
        )
        if release is not None:
            return release
        if not Release.objects.filter(sdk__slug=attrs["sdk"]).exists():
            raise serializers.ValidationError(
                {"sdk": [gettext("Unknown SDK '%(sdk)s'.") % {"sdk": attrs["sdk"]}]}
            )
        raise serializers.ValidationError(
            {
                "version": [
                    gettext("Unknown release %(release)s.")
                    % {"release": f"{attrs['sdk']} {attrs['version']}"}
                ]
            }
        )


class FiniteFloatField(serializers.FloatField):
    """A float that is a number: NaN and infinities are refused, not stored."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            raise serializers.ValidationError(gettext("Enter a finite number."))
        return value


class ChoiceDocumentSerializer(serializers.Serializer):
    text = MarkdownField()
    correct = serializers.BooleanField(default=False)
    fraction = FiniteFloatField(
        required=False,
        allow_null=True,
        default=None,
        min_value=-1,
        max_value=1,
        help_text="Share of the mark picking it gives (-1 to 1; negative for a wrong pick). "
        "With fractions, `correct` follows from them.",
    )

    class Meta:
        list_serializer_class = DocumentListSerializer


class ShortAnswerDocumentSerializer(serializers.Serializer):
    text = serializers.CharField(
        max_length=500, help_text="An accepted answer; `*` matches any run of characters."
    )
    fraction = FiniteFloatField(min_value=0, max_value=1, default=1.0)

    class Meta:
        list_serializer_class = DocumentListSerializer


class UnitDocumentSerializer(serializers.Serializer):
    unit = serializers.CharField(max_length=32)
    multiplier = FiniteFloatField(
        default=1.0, help_text="An answer in this unit, divided by it, is in the value's unit."
    )

    class Meta:
        list_serializer_class = DocumentListSerializer

    def validate_multiplier(self, value: float) -> float:
        if value <= 0:
            raise serializers.ValidationError(gettext("Must be greater than 0."))
        return value


class PairDocumentSerializer(serializers.Serializer):
    item = MarkdownField(max_length=2000)
    match = serializers.CharField(max_length=500)

    class Meta:
        list_serializer_class = DocumentListSerializer


# Which of the kind fields each kind takes; every other one is refused.
KIND_FIELDS: dict[str, frozenset[str]] = {
    Question.Kind.SINGLE: frozenset({"choices"}),
    Question.Kind.MULTIPLE: frozenset({"choices"}),
    Question.Kind.TRUE_FALSE: frozenset({"answer"}),
    Question.Kind.SHORT_ANSWER: frozenset({"answers", "case_sensitive"}),
    Question.Kind.NUMERIC: frozenset({"value", "tolerance", "units"}),
    Question.Kind.ORDERING: frozenset({"items", "partial"}),
    Question.Kind.MATCHING: frozenset({"pairs", "distractors", "partial"}),
    Question.Kind.SCENARIO: frozenset({"scenario", "question"}),
    Question.Kind.ESSAY: frozenset({"rubric"}),
}
ALL_KIND_FIELDS = frozenset().union(*KIND_FIELDS.values())


class KindFieldsSerializer(serializers.Serializer):
    """The fields of every question kind; `validate` keeps the kind's own and folds
    them into `spec` (and `choices`)."""

    kind = serializers.ChoiceField(choices=Question.Kind.choices, default=Question.Kind.SINGLE)
    choices = ChoiceDocumentSerializer(
        many=True,
        min_length=2,
        max_length=MAX_CHOICES,
        required=False,
        help_text="single, multiple: the choices.",
    )
    answer = serializers.BooleanField(required=False, help_text="true_false: the right answer.")
    answers = ShortAnswerDocumentSerializer(
        many=True,
        min_length=1,
        max_length=MAX_ANSWERS,
        required=False,
        help_text="short_answer: accepted answers, each with its fraction of the mark.",
    )
    case_sensitive = serializers.BooleanField(
        required=False, help_text="short_answer: compare case too (default false)."
    )
    value = FiniteFloatField(required=False, help_text="numeric: the right value.")
    tolerance = FiniteFloatField(
        required=False, min_value=0, help_text="numeric: accepted distance from value (default 0)."
    )
    units = UnitDocumentSerializer(
        many=True,
        max_length=10,
        required=False,
        help_text="numeric: units an answer may carry; the first is the value's (multiplier 1).",
    )
    items = serializers.ListField(
        child=MarkdownField(max_length=2000),
        min_length=2,
        max_length=MAX_ITEMS,
        required=False,
        help_text="ordering: the items in the right order (shown shuffled).",
    )
    partial = serializers.BooleanField(
        required=False,
        help_text="ordering (default false), matching (default true): credit for each item "
        "in its place or matched right.",
    )
    pairs = PairDocumentSerializer(
        many=True,
        min_length=2,
        max_length=MAX_ITEMS,
        required=False,
        help_text="matching: each item with its match.",
    )
    distractors = serializers.ListField(
        child=serializers.CharField(max_length=500),
        max_length=MAX_ITEMS,
        required=False,
        help_text="matching: wrong answers offered with the matches.",
    )
    rubric = MarkdownField(
        required=False, help_text="essay: what a grader looks for (never shown to the engineer)."
    )

    allowed_kinds: frozenset[str] = frozenset(Question.Kind.values)

    def validate(self, attrs):
        kind = attrs["kind"]
        if kind not in self.allowed_kinds:
            raise serializers.ValidationError(
                {"kind": [gettext("A scenario's question cannot itself be a scenario.")]}
            )
        own = KIND_FIELDS[kind]
        errors: dict[str, list[str]] = {}
        for name in sorted((ALL_KIND_FIELDS - own) & set(attrs)):
            errors[name] = [gettext("Not a field of the kind %(kind)s.") % {"kind": kind}]
        required = {
            Question.Kind.SINGLE: ["choices"],
            Question.Kind.MULTIPLE: ["choices"],
            Question.Kind.TRUE_FALSE: ["answer"],
            Question.Kind.SHORT_ANSWER: ["answers"],
            Question.Kind.NUMERIC: ["value"],
            Question.Kind.ORDERING: ["items"],
            Question.Kind.MATCHING: ["pairs"],
            Question.Kind.SCENARIO: ["scenario", "question"],
            Question.Kind.ESSAY: ["rubric"],
        }[kind]
        for name in required:
            if name not in attrs:
                errors[name] = [gettext("This field is required.")]
        if errors:
            raise serializers.ValidationError(errors)
        attrs["spec"], attrs["choices"] = self._spec(kind, attrs)
        for name in ALL_KIND_FIELDS - {"choices"}:
            attrs.pop(name, None)
        return attrs

    def _spec(self, kind: str, attrs: dict) -> tuple[dict, list]:
        fail = serializers.ValidationError
        if kind in CHOICE_KINDS:
            return {}, _choices(kind, attrs["choices"])
        if kind == Question.Kind.TRUE_FALSE:
            return {"answer": attrs["answer"]}, []
        if kind == Question.Kind.SHORT_ANSWER:
            answers = [{"text": a["text"], "fraction": a["fraction"]} for a in attrs["answers"]]
            if max(a["fraction"] for a in answers) != 1:
                raise fail({"answers": [gettext("One accepted answer needs the fraction 1.")]})
            if any(not a["text"].replace("*", "").strip() for a in answers):
                raise fail({"answers": [gettext("An accepted answer needs more than wildcards.")]})
            return {"answers": answers, "case_sensitive": attrs.get("case_sensitive", False)}, []
        if kind == Question.Kind.NUMERIC:
            units = [
                {"unit": u["unit"].strip(), "multiplier": u["multiplier"]}
                for u in attrs.get("units", [])
            ]
            if units and units[0]["multiplier"] != 1:
                raise fail(
                    {"units": [gettext("The first unit is the value's: its multiplier is 1.")]}
                )
            names = [u["unit"] for u in units]
            if len(set(names)) != len(names) or not all(names):
                raise fail({"units": [gettext("Units need distinct, non-blank names.")]})
            return {
                "value": attrs["value"],
                "tolerance": attrs.get("tolerance", 0.0),
                "units": units,
            }, []
        if kind == Question.Kind.ORDERING:
            items = attrs["items"]
            if len(set(items)) != len(items):
                raise fail({"items": [gettext("The items must differ from one another.")]})
            return {"items": items, "partial": attrs.get("partial", False)}, []
        if kind == Question.Kind.MATCHING:
            pairs = [{"item": p["item"], "match": p["match"]} for p in attrs["pairs"]]
            distractors = attrs.get("distractors", [])
            items = [p["item"] for p in pairs]
            if len(set(items)) != len(items):
                raise fail({"pairs": [gettext("The items must differ from one another.")]})
            if set(distractors) & {p["match"] for p in pairs}:
                raise fail({"distractors": [gettext("A distractor cannot also be a match.")]})
            return {
                "pairs": pairs,
                "distractors": distractors,
                "partial": attrs.get("partial", True),
            }, []
        if kind == Question.Kind.SCENARIO:
            inner = attrs["question"]
            spec = {
                "scenario": attrs["scenario"],
                "question": {"kind": inner["kind"], "prompt": inner["prompt"], **inner["spec"]},
            }
            return spec, inner["choices"]
        return {"rubric": attrs["rubric"]}, []  # essay


def _choices(kind: str, choices: list[dict]) -> list[dict]:
    """Choices with `correct` settled: from the fractions when any is given."""
    fractions = [c["fraction"] for c in choices if c["fraction"] is not None]
    fail = serializers.ValidationError
    if fractions and len(fractions) != len(choices):
        raise fail({"choices": [gettext("Give every choice a fraction, or none.")]})
    if fractions:
        for choice in choices:
            if kind == Question.Kind.SINGLE:
                choice["correct"] = choice["fraction"] == 1
            else:
                choice["correct"] = choice["fraction"] > 0
        if kind == Question.Kind.MULTIPLE and not math.isclose(
            sum(f for f in fractions if f > 0), 1, abs_tol=0.001
        ):
            raise fail(
                {"choices": [gettext("The positive fractions of the choices must add up to 1.")]}
            )
    correct = sum(1 for choice in choices if choice["correct"])
    if kind == Question.Kind.SINGLE and correct != 1:
        raise fail(
            {"choices": [gettext("A single-choice question needs exactly one correct choice.")]}
        )
    if kind == Question.Kind.MULTIPLE and correct < 1:
        raise fail(
            {"choices": [gettext("A multiple-choice question needs at least one correct choice.")]}
        )
    return [
        {"text": c["text"], "correct": c["correct"], "fraction": c["fraction"]} for c in choices
    ]


class ScenarioQuestionDocumentSerializer(KindFieldsSerializer):
    """The question a scenario asks about its log, trace or code: any kind but scenario."""

    prompt = MarkdownField(required=False, allow_blank=True, default="", help_text="Markdown.")

    allowed_kinds = frozenset(Question.Kind.values) - {Question.Kind.SCENARIO}


class QuestionDocumentSerializer(KindFieldsSerializer):
    id = serializers.RegexField(
        r"^[A-Za-z0-9][A-Za-z0-9_.:/-]*$",
        max_length=100,
        required=False,
        allow_null=True,
        default=None,
        help_text="Optional stable name of the question, so edits make new versions of it "
        "(default: its place, e.g. q3 or pool-name/2).",
    )
    prompt = MarkdownField(help_text="Markdown.")
    skill = serializers.SlugField(
        max_length=64, required=False, allow_null=True, help_text="Skill slug it tests."
    )
    feature = serializers.SlugField(
        max_length=100,
        required=False,
        allow_null=True,
        help_text="Key of a feature of the course's release.",
    )
    explanation = MarkdownField(
        required=False, allow_blank=True, default="", help_text="Markdown, shown after submission."
    )
    scenario = MarkdownField(
        required=False,
        max_length=100_000,
        help_text="scenario: Markdown with the log, trace or code (fenced, highlighted).",
    )
    question = ScenarioQuestionDocumentSerializer(
        required=False, help_text="scenario: the question asked about it (any other kind)."
    )

    class Meta:
        list_serializer_class = DocumentListSerializer

    def validate_id(self, value: str | None) -> str | None:
        if value is not None and value[:1] == "q" and value[1:].isdigit():
            raise serializers.ValidationError(
                gettext("q followed by a number names a question by its place; choose another id.")
            )
        return value


class PoolDocumentSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    questions = QuestionDocumentSerializer(
        many=True, allow_empty=False, max_length=MAX_POOL_QUESTIONS
    )

    class Meta:
        list_serializer_class = DocumentListSerializer


class SlotDocumentSerializer(serializers.Serializer):
    question = serializers.IntegerField(
        required=False,
        min_value=0,
        help_text="A fixed question: its index in `questions` (from 0).",
    )
    pool = serializers.CharField(max_length=100, required=False, help_text="A pool's name.")
    draw = serializers.IntegerField(
        required=False, min_value=1, max_value=500, help_text="How many to draw from the pool."
    )
    feature = serializers.SlugField(
        max_length=100, required=False, allow_null=True, help_text="Draw only this feature's."
    )

    class Meta:
        list_serializer_class = DocumentListSerializer

    def validate(self, attrs):
        if "question" in attrs:
            extra = sorted({"pool", "draw", "feature"} & set(attrs))
            if extra:
                raise serializers.ValidationError(
                    {
                        name: [
                            gettext("A fixed question's slot takes no %(field)s.") % {"field": name}
                        ]
                        for name in extra
                    }
                )
            return {"question": attrs["question"], "pool": None, "draw": None, "feature": None}
        if "pool" not in attrs:
            raise serializers.ValidationError(
                [gettext('A slot is {"question": index} or {"pool": name, "draw": N}.')]
            )
        if "draw" not in attrs:
            raise serializers.ValidationError({"draw": [gettext("This field is required.")]})
        return {
            "question": None,
            "pool": attrs["pool"],
            "draw": attrs["draw"],
            "feature": attrs.get("feature"),
        }


def _ids_repeated(quiz: dict) -> list[str]:
    ids = [q["id"] for q in quiz["questions"] if q.get("id")]
    ids += [q["id"] for pool in quiz["pools"] for q in pool["questions"] if q.get("id")]
    return sorted(name for name, n in Counter(ids).items() if n > 1)


class QuizDocumentSerializer(serializers.Serializer):
    pass_mark = serializers.IntegerField(
        min_value=1, max_value=100, default=80, help_text="Percentage needed to pass."
    )
    max_attempts = serializers.IntegerField(min_value=1, max_value=100, default=3)
    review = serializers.ChoiceField(
        choices=Quiz.Review.choices,
        default=Quiz.Review.AFTER_PASS,
        help_text="after_pass (default): the key and explanations once the engineer passes "
        "or has used every attempt; immediate: on every result.",
    )
    questions = QuestionDocumentSerializer(
        many=True,
        required=False,
        max_length=MAX_QUESTIONS,
        help_text="The quiz's own questions; without slots, each is asked, in order.",
    )
    pools = PoolDocumentSerializer(
        many=True,
        required=False,
        max_length=MAX_POOLS,
        help_text="Named sets of questions that slots draw from.",
    )
    slots = SlotDocumentSerializer(
        many=True,
        required=False,
        max_length=MAX_SLOTS,
        help_text='What an attempt asks: {"question": index} or {"pool": name, "draw": N, '
        '"feature": key?}. Default: every question of `questions`, in order.',
    )

    def validate(self, attrs):
        attrs.setdefault("questions", [])
        attrs.setdefault("pools", [])
        attrs.setdefault("slots", [])
        errors: dict[str, Any] = {}
        names = Counter(pool["name"] for pool in attrs["pools"])
        repeated = sorted(name for name, n in names.items() if n > 1)
        if repeated:
            errors["pools"] = [
                gettext("Two pools are named '%(name)s'.") % {"name": name} for name in repeated
            ]
        repeated = _ids_repeated(attrs)
        if repeated:
            errors["questions"] = [
                gettext("Two questions have the id '%(id)s'.") % {"id": name} for name in repeated
            ]
        if not attrs["slots"]:
            if not attrs["questions"]:
                errors["questions"] = [gettext("This list may not be empty.")]
            if attrs["pools"]:
                errors["slots"] = [gettext("A quiz with pools needs slots that draw from them.")]
        else:
            slot_errors: list[dict] = []
            used: set[int] = set()
            for slot in attrs["slots"]:
                found: dict[str, list[str]] = {}
                index = slot["question"]
                if index is not None:
                    if index >= len(attrs["questions"]):
                        found["question"] = [
                            gettext("No question %(index)s: the quiz has %(n)s (counted from 0).")
                            % {"index": index, "n": len(attrs["questions"])}
                        ]
                    elif index in used:
                        found["question"] = [gettext("This question already has a slot.")]
                    used.add(index)
                elif slot["pool"] not in names:
                    found["pool"] = [gettext("No pool named '%(name)s'.") % {"name": slot["pool"]}]
                slot_errors.append(found)
            if any(slot_errors):
                errors["slots"] = slot_errors
            unslotted = sorted(set(range(len(attrs["questions"]))) - used)
            if unslotted and "slots" not in errors:
                errors["questions"] = [
                    gettext("Question %(index)s has no slot, so it would never be asked.")
                    % {"index": index}
                    for index in unslotted
                ]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class LessonDocumentSerializer(serializers.Serializer):
    title = serializers.CharField(max_length=200)
    body = MarkdownField(help_text="Markdown.")
    feature = serializers.SlugField(
        max_length=100,
        required=False,
        allow_null=True,
        help_text="Key of a feature of the course's release.",
    )

    class Meta:
        list_serializer_class = DocumentListSerializer


class CourseDocumentSerializer(serializers.Serializer):
    """A course document. References (release, features, skills) must exist."""

    slug = serializers.SlugField(
        max_length=100, required=False, help_text="Optional; must match the URL's slug."
    )
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    release = ReleaseRefDocumentSerializer(
        required=False, allow_null=True, help_text="Omit or null for an onboarding course."
    )
    language = serializers.ChoiceField(choices=Course.Language.choices, default=Course.Language.EN)
    status = serializers.ChoiceField(choices=Course.Status.choices, default=Course.Status.PUBLISHED)
    recertifies = serializers.ListField(
        child=serializers.SlugField(max_length=64),
        required=False,
        default=list,
        max_length=MAX_RECERTIFIES,
        help_text="Slugs of the skills whose records a pass of this course renews: engineers "
        "whose record in one of them is about to expire are assigned the course.",
    )
    owner = serializers.CharField(
        max_length=150,
        required=False,
        allow_null=True,
        help_text="Username of who keeps the course true (content review); null for none.",
    )
    verify_every_days = serializers.IntegerField(
        min_value=1,
        max_value=3650,
        required=False,
        help_text="How often its owner confirms it is still true (default 180).",
    )
    lessons = LessonDocumentSerializer(many=True, required=False, max_length=MAX_LESSONS)
    quiz = QuizDocumentSerializer(required=False, allow_null=True)

    def validate_owner(self, value: str | None):
        if value is None:
            return None
        owner = get_user_model().objects.filter(username=value, is_active=True).first()
        if owner is None:
            raise serializers.ValidationError(
                gettext("Unknown user '%(username)s'.") % {"username": value}
            )
        return owner

    @staticmethod
    def _check_draws(quiz: dict, feature_of) -> list[dict]:
        """Each draw's feature exists, and no pool is asked for more questions (of
        the feature) than it holds: an attempt could not be drawn."""
        pools = {pool["name"]: pool["questions"] for pool in quiz["pools"]}
        drawn: Counter[str] = Counter()
        slot_errors: list[dict] = []
        for slot in quiz["slots"]:
            found: dict[str, list[str]] = {}
            if slot["pool"] is not None:
                key = slot["feature"]
                slot["feature"], messages = feature_of(key)
                if messages:
                    found["feature"] = messages
                questions = pools.get(slot["pool"], [])
                if slot["feature"] is not None:
                    questions = [q for q in questions if q["feature"] == slot["feature"]]
                drawn[slot["pool"]] += slot["draw"]
                if not messages and slot["draw"] > len(questions):
                    found["draw"] = [
                        gettext(
                            "Cannot draw %(draw)s: pool '%(pool)s' has %(n)s question(s)"
                            " to draw from."
                        )
                        % {"draw": slot["draw"], "pool": slot["pool"], "n": len(questions)}
                    ]
                elif drawn[slot["pool"]] > len(pools.get(slot["pool"], [])):
                    found["draw"] = [
                        gettext("The slots draw more questions from '%(pool)s' than it holds.")
                        % {"pool": slot["pool"]}
                    ]
            slot_errors.append(found)
        return slot_errors

    def validate(self, attrs):
        release: Release | None = attrs.get("release")
        lessons = attrs.setdefault("lessons", [])
        quiz = attrs.setdefault("quiz", None)
        attrs["release"] = release
        errors: dict[str, Any] = {}
        if not lessons and quiz is None:
            errors["lessons"] = [gettext("A course needs at least one lesson or a quiz.")]

        features = {f.key: f for f in release.features.all()} if release else {}
        recertifies = list(dict.fromkeys(attrs.get("recertifies") or []))
        all_questions = [
            *(quiz or {}).get("questions", []),
            *(q for pool in (quiz or {}).get("pools", []) for q in pool["questions"]),
        ]
        wanted_skills = {q["skill"] for q in all_questions if q.get("skill")}
        skills = {
            s.slug: s for s in Skill.objects.filter(slug__in=wanted_skills | set(recertifies))
        }
        unknown = [slug for slug in recertifies if slug not in skills]
        if unknown:
            errors["recertifies"] = [
                gettext("Unknown skill '%(slug)s'.") % {"slug": slug} for slug in unknown
            ]
        attrs["recertifies"] = [skills[slug] for slug in recertifies if slug in skills]

        def feature_of(key: str | None) -> tuple[Feature | None, list[str]]:
            if not key:
                return None, []
            if release is None:
                return None, [
                    gettext("Feature '%(key)s' needs the course to have a release.") % {"key": key}
                ]
            if key not in features:
                return None, [
                    gettext("Unknown feature '%(key)s' in %(release)s.")
                    % {"key": key, "release": f"{release.sdk.slug} {release.version}"}
                ]
            return features[key], []

        lesson_errors = []
        for lesson in lessons:
            lesson["feature"], messages = feature_of(lesson.get("feature"))
            lesson_errors.append({"feature": messages} if messages else {})
        if any(lesson_errors):
            errors["lessons"] = lesson_errors

        def resolve(questions: list[dict]) -> list[dict]:
            question_errors = []
            for question in questions:
                found: dict[str, list[str]] = {}
                question["feature"], messages = feature_of(question.get("feature"))
                if messages:
                    found["feature"] = messages
                slug = question.get("skill")
                question["skill"] = skills.get(slug) if slug else None
                if slug and question["skill"] is None:
                    found["skill"] = [gettext("Unknown skill '%(slug)s'.") % {"slug": slug}]
                question_errors.append(found)
            return question_errors

        if quiz is not None:
            quiz_errors: dict[str, Any] = {}
            question_errors = resolve(quiz["questions"])
            if any(question_errors):
                quiz_errors["questions"] = question_errors
            pool_errors = [{"questions": resolve(pool["questions"])} for pool in quiz["pools"]]
            if any(any(item["questions"]) for item in pool_errors):
                quiz_errors["pools"] = [
                    item if any(item["questions"]) else {} for item in pool_errors
                ]
            slot_errors = self._check_draws(quiz, feature_of)
            if any(slot_errors):
                quiz_errors["slots"] = slot_errors
            if quiz_errors:
                errors["quiz"] = quiz_errors

        if errors:
            raise serializers.ValidationError(errors)
        return attrs


def document_validate(document: Any) -> CourseSpec:
    """Check a course document and resolve its references.

    Returns the validated document with `release` a Release (or None), each lesson's
    and question's `feature` a Feature (or None), each question's `skill` a Skill
    (or None) and `recertifies` a list of Skills, defaults filled in. Raises
    InvalidInput with DRF-shaped field errors.
    """
    serializer = CourseDocumentSerializer(data=document)
    if not serializer.is_valid():
        raise InvalidInput(serializer.errors)
    # The serializers' defaults and `validate` give every key of a CourseSpec.
    return cast(CourseSpec, serializer.validated_data)


def course_to_document(course: Course) -> dict:
    """The document that `course_put` would turn into this course.

    Optional keys that hold nothing (no feature, no skill, no explanation, a wrong
    choice's `correct`) are left out, so exports read like hand-written documents.
    """
    document: dict[str, Any] = {"slug": course.slug, "title": course.title}
    if course.description:
        document["description"] = course.description
    release = course.release
    document["release"] = (
        {"sdk": release.sdk.slug, "version": release.version} if release is not None else None
    )
    document["language"] = course.language
    document["status"] = course.status
    recertifies = sorted(course.recertifies.values_list("slug", flat=True))
    if recertifies:
        document["recertifies"] = recertifies
    if course.owner_id is not None:
        document["owner"] = course.owner.get_username()
    if course.verify_every_days != Course._meta.get_field("verify_every_days").default:
        document["verify_every_days"] = course.verify_every_days
    lessons = []
    for lesson in Lesson.objects.filter(course=course).select_related("feature"):
        item = {"title": lesson.title, "body": lesson.body}
        if lesson.feature is not None:
            item["feature"] = lesson.feature.key
        lessons.append(item)
    document["lessons"] = lessons
    quiz = Quiz.objects.filter(course=course).first()
    if quiz is not None:
        document["quiz"] = quiz_to_document(quiz)
    return document


def quiz_to_document(quiz: Quiz) -> dict:
    """The quiz part of a course document: its questions, pools and slots."""
    stored = list(
        Question.objects.filter(quiz=quiz)
        .select_related("skill", "feature")
        .prefetch_related("choices")
        .order_by("position")
    )
    own = [q for q in stored if q.pool_id is None]
    document: dict[str, Any] = {
        "pass_mark": quiz.pass_mark,
        "max_attempts": quiz.max_attempts,
        "review": quiz.review,
        "questions": [question_to_document(q, q.choices.all()) for q in own],
    }
    pools = list(QuestionPool.objects.filter(quiz=quiz).order_by("position"))
    if pools:
        document["pools"] = [
            {
                "name": pool.name,
                "questions": [
                    question_to_document(q, q.choices.all()) for q in stored if q.pool_id == pool.pk
                ],
            }
            for pool in pools
        ]
    index = {q.pk: i for i, q in enumerate(own)}
    names = {pool.pk: pool.name for pool in pools}
    slots = []
    for slot in QuizSlot.objects.filter(quiz=quiz).select_related("feature").order_by("position"):
        if slot.question_id is not None:
            slots.append({"question": index[slot.question_id]})
            continue
        item: dict[str, Any] = {"pool": names[slot.pool_id], "draw": slot.draw}
        if slot.feature is not None:
            item["feature"] = slot.feature.key
        slots.append(item)
    if slots:
        document["slots"] = slots
    return document


def _choice_items(choices) -> list[dict]:
    items = []
    for choice in choices:
        if isinstance(choice, Choice):
            text, correct, fraction = choice.text, choice.correct, choice.fraction
        else:
            text, correct, fraction = (*tuple(choice), None)[:3]
        item: dict[str, Any] = {"text": text}
        if correct:
            item["correct"] = True
        if fraction is not None:
            item["fraction"] = fraction
        items.append(item)
    return items


def _kind_fields(kind: str, spec: dict, choices) -> dict:
    """A kind's own document fields, from Question.spec (and the choices)."""
    if kind in CHOICE_KINDS:
        return {"choices": _choice_items(choices)}
    if kind == Question.Kind.SCENARIO:
        inner = dict(spec.get("question") or {})
        inner_kind = inner.pop("kind", Question.Kind.SINGLE)
        prompt = inner.pop("prompt", "")
        question: dict[str, Any] = {"kind": inner_kind}
        if prompt:
            question["prompt"] = prompt
        question |= _kind_fields(inner_kind, inner, choices)
        return {"scenario": spec.get("scenario", ""), "question": question}
    fields = dict(spec)
    if kind == Question.Kind.NUMERIC and not fields.get("units"):
        fields.pop("units", None)
    if kind == Question.Kind.MATCHING and not fields.get("distractors"):
        fields.pop("distractors", None)
    return fields


def question_to_document(question: Question, choices) -> dict:
    """One question of a course document, with its `choices` (Choice objects, or
    `(text, correct)` pairs, in order). The admin uses it to check a question being
    edited together with the rest of its course, by the same validator."""
    item: dict[str, Any] = {}
    if question.uid and not _default_uid(question.uid):
        item["id"] = question.uid
    item |= {"prompt": question.prompt, "kind": question.kind}
    if question.skill is not None:
        item["skill"] = question.skill.slug
    if question.feature is not None:
        item["feature"] = question.feature.key
    if question.explanation:
        item["explanation"] = question.explanation
    item |= _kind_fields(question.kind, question.spec or {}, choices)
    return item


def default_uid(*, pool: str | None, position: int) -> str:
    """A question's name when its document gives none: its place (`q3`, `pool#2`,
    1-based). `#` is not allowed in a document's `id`, so the two never collide."""
    return f"{pool}#{position}" if pool is not None else f"q{position}"


def _default_uid(uid: str) -> bool:
    return "#" in uid or (uid[:1] == "q" and uid[1:].isdigit())


def error_lines(detail: Any, path: str = "") -> list[str]:
    """DRF-shaped errors as `quiz.questions[1].choices: message` lines."""
    if isinstance(detail, dict):
        lines = []
        for key, value in detail.items():
            lines += error_lines(value, f"{path}.{key}" if path else str(key))
        return lines
    if isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            return [f"{path or 'document'}: {item}" for item in detail]
        lines = []
        for index, item in enumerate(detail):
            lines += error_lines(item, f"{path}[{index}]")
        return lines
    return [f"{path or 'document'}: {detail}"]

"""Reads about quizzes as engineers meet them."""

from django.db.models import Count, Q, Sum

from courses.models import Question, Quiz, QuizSlot


def quiz_question_count(*, quiz: Quiz) -> int:
    """How many questions an attempt asks: one per fixed slot plus each slot's
    draw, or, without slots, the quiz's own questions."""
    slots = QuizSlot.objects.filter(quiz=quiz).aggregate(
        any=Count("pk"),
        fixed=Count("pk", filter=Q(question__isnull=False)),
        drawn=Sum("draw", default=0),
    )
    if not slots["any"]:
        return Question.objects.filter(quiz=quiz, pool__isnull=True).count()
    return slots["fixed"] + slots["drawn"]

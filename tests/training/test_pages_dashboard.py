import re
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from tests.factories import AssignmentFactory, CourseFactory, LessonFactory, QuizFactory
from tests.training.quiz_course import build_quiz_course
from training.models import Assignment, LessonProgress

pytestmark = pytest.mark.django_db

NOW = datetime(2030, 1, 10, 12, 0, tzinfo=UTC)


def section(html: str, group: str) -> str:
    match = re.search(
        rf'<section class="group" aria-labelledby="group-{group}">(.*?)</section>', html, re.S
    )
    return match.group(1) if match else ""


@time_machine.travel(NOW, tick=False)
def test_the_dashboard_groups_overdue_due_and_complete(client, engineer, outsider):
    soon = AssignmentFactory(
        engineer=engineer,
        course=CourseFactory(title="Soon"),
        due_at=NOW + timedelta(days=3),
        assigned_at=NOW - timedelta(days=20),
    )
    later = AssignmentFactory(
        engineer=engineer,
        course=CourseFactory(title="Later"),
        due_at=NOW + timedelta(days=9),
        assigned_at=NOW - timedelta(days=20),
    )
    AssignmentFactory(
        engineer=engineer,
        course=CourseFactory(title="Late"),
        due_at=NOW - timedelta(hours=5),
        assigned_at=NOW - timedelta(days=20),
    )
    AssignmentFactory(
        engineer=engineer,
        course=CourseFactory(title="Finished"),
        due_at=NOW - timedelta(days=1),
        assigned_at=NOW - timedelta(days=20),
        status=Assignment.Status.COMPLETE,
        completed_at=NOW - timedelta(days=2),
    )
    AssignmentFactory(engineer=outsider, course=CourseFactory(title="Someone else's"))
    client.force_login(engineer.user)
    html = client.get(reverse("home")).text

    overdue, due, complete = (section(html, g) for g in ("overdue", "due", "complete"))
    assert "Late" in overdue and "overdue by 5 h" in overdue
    assert "Finished" in complete and "Complete" in complete
    assert due.index("Soon") < due.index("Later")
    assert "due in 3 days" in due
    assert "Someone else" not in html
    assert reverse("assignment_resume", args=[soon.pk]) in due
    assert reverse("assignment", args=[later.pk]) in due


@time_machine.travel(NOW, tick=False)
def test_due_dates_and_customer_dates_show_in_my_time_zone(client, engineer):
    # 2030-01-12 16:00 UTC is 2030-01-13 00:00 in Asia/Shanghai.
    qc = build_quiz_course(engineer=engineer, due_at=datetime(2030, 1, 12, 16, 0, tzinfo=UTC))
    client.force_login(engineer.user)
    html = client.get(reverse("home")).text
    assert "Sun 13 Jan 2030, 00:00 CST" in html
    assert qc.release.version in html and "rtm-android" in html
    assert "Asia/Shanghai" in html


def test_progress_counts_lessons_read_and_the_quiz(client, engineer):
    qc = build_quiz_course(engineer=engineer)
    LessonProgress.objects.create(engineer=engineer, lesson=qc.lessons[0])
    client.force_login(engineer.user)
    html = client.get(reverse("home")).text
    assert f'<progress id="progress-{qc.assignment.pk}" class="progress" max="3" value="1"' in html
    assert "33% complete (1 of 3 steps)" in html


def test_a_dashboard_with_nothing_assigned_says_so(client, engineer):
    client.force_login(engineer.user)
    assert "Nothing assigned" in client.get(reverse("home")).text


def _assign(engineer, n: int) -> None:
    for i in range(n):
        course = CourseFactory()
        LessonFactory(course=course, position=1)
        LessonFactory(course=course, position=2)
        if i % 2:
            QuizFactory(course=course)
        AssignmentFactory(engineer=engineer, course=course)


@pytest.mark.parametrize("count", [3, 30])
def test_the_dashboard_query_count_does_not_grow_with_assignments(
    client, engineer, django_assert_max_num_queries, count
):
    _assign(engineer, count)
    client.force_login(engineer.user)
    # session, user, engineer, assignments, and the lead's notices (grants, extensions)
    with django_assert_max_num_queries(5):
        response = client.get(reverse("home"))
    assert response.text.count('class="assignment-card') == count


def test_the_dashboard_answers_only_get(client, engineer):
    client.force_login(engineer.user)
    assert client.post(reverse("home")).status_code == 405

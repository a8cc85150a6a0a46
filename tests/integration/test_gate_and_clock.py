"""Issue 5 on the real services: PostgreSQL, Redis and a separate Celery worker.

The release pipeline talks HTTP with scoped tokens; the worker does the fan-out and
the reconcile pass; beat's reminder and escalation tasks are called in this process
under a moved clock (time-machine), as beat would fire them, and twice, as a second
beat tick or a retried task would. Engineers complete their training through the
same service the lesson page calls.
"""

import json
import os
import re
import subprocess
import sys
import textwrap
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from smtplib import SMTPServerDisconnected
from types import SimpleNamespace

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.utils import timezone
from kombu.exceptions import OperationalError as KombuOperationalError
from rest_framework.test import APIClient
from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

from courses.models import Course, Release
from courses.webhooks import new_webhook_secret
from tests.factories import (
    AssignmentFactory,
    CourseFactory,
    EngineerFactory,
    ReleaseFactory,
    SdkFactory,
    SkillFactory,
    SkillRecordFactory,
    TeamFactory,
    UserFactory,
)
from tests.integration.conftest import ROOT, Worker, _database_url, _route_every_task
from training import tasks
from training.models import Assignment, AuditEvent, Engineer, Notification, WebhookDelivery
from training.services import webhooks
from training.services.attempts import attempt_start, attempt_submit
from training.services.progress import lesson_mark_read
from training.services.tokens import token_issue

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

RELEASES = "/api/v1/releases/"
IN_SCOPE = ["ada", "ari", "eve", "amy", "abe"]
SECRET = new_webhook_secret()  # shared with the rtm-android team
DEADLINE = 60  # seconds any wait on the worker or the receiver may take


# --- the world ---------------------------------------------------------------------


def client_with(*scopes: str) -> APIClient:
    _, raw = token_issue(name="-".join(scopes), scopes=list(scopes))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw}")
    return client


@pytest.fixture
def world(transactional_db):
    """Two teams support rtm-android: APAC (ada, ari; lead lena) and a follow-the-sun
    team (eve in EMEA, amy and abe in AMER; lead erik). wes is on the web team (lead
    wanda) and out of scope."""
    android = SdkFactory(slug="rtm-android", name="RTM SDK for Android")
    web = SdkFactory(slug="rtm-web", name="RTM SDK for Web")
    skills = SimpleNamespace(
        ordering=SkillFactory(slug="message-ordering"), push=SkillFactory(slug="push")
    )
    leads = {name: UserFactory(username=name) for name in ("lena", "erik", "wanda")}
    apac = TeamFactory(slug="apac-rtm", name="APAC RTM", sdks=[android], leads=[leads["lena"]])
    sun = TeamFactory(
        slug="sun-rtm", name="Follow-the-sun RTM", sdks=[android], leads=[leads["erik"]]
    )
    web_team = TeamFactory(slug="web", name="Web", sdks=[web], leads=[leads["wanda"]])
    engineers = {
        username: EngineerFactory(
            user=UserFactory(username=username), team=team, region=region, timezone=zone
        )
        for username, team, region, zone in [
            ("ada", apac, "APAC", "Asia/Shanghai"),
            ("ari", apac, "APAC", "Asia/Tokyo"),
            ("eve", sun, "EMEA", "Europe/Berlin"),
            ("amy", sun, "AMER", "America/New_York"),
            ("abe", sun, "AMER", "America/Los_Angeles"),
            ("wes", web_team, "EMEA", "Europe/London"),
        ]
    }
    return SimpleNamespace(
        android=android,
        skills=skills,
        teams=SimpleNamespace(apac=apac, sun=sun, web=web_team),
        engineers=engineers,
        pipeline=client_with("releases"),
        overrider=client_with("releases:override"),
        people=client_with("people"),
        assigner=client_with("assignments"),
    )


def minute(value: datetime) -> datetime:
    return value.replace(second=0, microsecond=0)


def record_and_publish(world, worker: Worker, *, version: str, customer_at: datetime, skills):
    """Record and publish over HTTP, then wait for the worker's fan-out to reach
    every in-scope engineer."""
    body = {
        "sdk": "rtm-android",
        "version": version,
        "customer_available_at": customer_at.isoformat(),
        "features": [
            {
                "key": f"feature-{index}",
                "title": f"Feature {index}",
                "summary": "What support must know.",
                "skills": [skill.slug for skill in group],
            }
            for index, group in enumerate(skills, start=1)
        ],
    }
    response = world.pipeline.post(RELEASES, body, format="json")
    assert response.status_code == 201, response.content
    response = world.pipeline.post(f"{RELEASES}rtm-android/{version}/publish/")
    assert response.status_code == 202, response.content
    release = Release.objects.get(sdk__slug="rtm-android", version=version)
    expected = Engineer.objects.filter(active=True, team__sdks=world.android).count()
    fanned_out = Assignment.objects.filter(release=release, reason=Assignment.Reason.RELEASE)
    worker.wait_for(
        lambda: fanned_out.count() >= expected, timeout=DEADLINE, what=f"the fan-out of {version}"
    )
    publish_course(world, release, skills)
    return release


def publish_course(world, release: Release, skills) -> None:
    """The author replaces the draft course made at publish with the real one (same
    slug, so the assignments go on), published with a quiz: a draft never makes a
    release ready."""
    draft = release.courses.get()
    document = {
        "title": f"RTM Android {release.version}",
        "status": "published",
        "release": {"sdk": "rtm-android", "version": release.version},
        "lessons": [
            {"title": lesson.title, "body": lesson.body, "feature": lesson.feature.key}
            for lesson in draft.lessons.order_by("position").select_related("feature")
        ],
        "quiz": {
            "pass_mark": 100,
            "max_attempts": 3,
            "questions": [
                {
                    "prompt": f"What changed in feature {index}?",
                    "kind": "single",
                    "skill": group[0].slug,
                    "feature": f"feature-{index}",
                    "choices": [{"text": "This", "correct": True}, {"text": "That"}],
                }
                for index, group in enumerate(skills, start=1)
                if group
            ],
        },
    }
    if not document["quiz"]["questions"]:
        document["quiz"]["questions"] = [
            {
                "prompt": "Read?",
                "kind": "single",
                "choices": [{"text": "Yes", "correct": True}, {"text": "No"}],
            }
        ]
    response = client_with("catalog").put(f"/api/v1/courses/{draft.slug}/", document, format="json")
    assert response.status_code == 200, response.content


def complete(release: Release, *usernames: str) -> None:
    """Each engineer reads every lesson of the release's course and passes its quiz,
    through the services the lesson and quiz pages call."""
    for username in usernames:
        assignment = Assignment.objects.select_related("engineer", "course").get(
            release=release, engineer__user__username=username
        )
        for lesson in assignment.course.lessons.order_by("position"):
            lesson_mark_read(assignment=assignment, lesson=lesson)
        attempt = attempt_start(engineer=assignment.engineer, quiz=assignment.course.quiz)
        answers = {
            str(question["id"]): [c["key"] for c in question["choices"] if c["correct"]]
            for question in attempt.snapshot["questions"]
        }
        attempt_submit(attempt=attempt, answers=answers)
        assignment.refresh_from_db()
        assert assignment.status == Assignment.Status.COMPLETE, username


def readiness(world, version: str) -> dict:
    response = world.pipeline.get(f"{RELEASES}rtm-android/{version}/readiness/")
    assert response.status_code == 200, response.content
    return response.json()


def make_available(client: APIClient, version: str, body: dict | None = None):
    return client.post(f"{RELEASES}rtm-android/{version}/availability/", body or {}, format="json")


def succeeded(worker: Worker, task_id: str) -> bool:
    return f"[{task_id}] succeeded" in worker.log()


def returned(worker: Worker, task_id: str) -> str:
    """What the task returned, as the worker logged it."""
    found = re.search(rf"\[{re.escape(task_id)}\] succeeded in [^:]+: (.*)", worker.log())
    assert found, worker.log()
    return found.group(1).strip()


# --- the availability gate ---------------------------------------------------------


def test_the_gate_answers_409_with_reasons_until_engineers_complete_then_200(celery_worker, world):
    release = record_and_publish(
        world,
        celery_worker,
        version="2.4.0",
        customer_at=minute(timezone.now()) + timedelta(days=10),
        skills=[[world.skills.ordering]],
    )

    before = readiness(world, "2.4.0")
    assert before["ready"] is False
    assert (before["required"], before["complete"], before["exempt"]) == (5, 0, 0)
    assert before["policy"] == {"min_completion": 0.9, "min_complete_per_region": 1}
    assert before["blocking"] == [
        "completion 0% is below 90%",
        "APAC has no complete engineer",
        "EMEA has no complete engineer",
        "AMER has no complete engineer",
    ]
    response = make_available(world.pipeline, "2.4.0")
    assert response.status_code == 409
    assert response.json()["blocking"] == before["blocking"]

    complete(release, "ada", "eve", "amy")
    response = make_available(world.pipeline, "2.4.0")
    assert response.status_code == 409
    assert response.json()["blocking"] == ["completion 60% is below 90%"]

    complete(release, "ari")
    response = make_available(world.pipeline, "2.4.0")
    assert response.status_code == 409
    assert response.json()["blocking"] == ["completion 80% is below 90%"]
    release.refresh_from_db()
    assert (release.status, release.available_at) == (Release.Status.PUBLISHED, None)
    assert not AuditEvent.objects.filter(
        kind__in=[AuditEvent.Kind.RELEASE_AVAILABLE, AuditEvent.Kind.RELEASE_OVERRIDE]
    ).exists()

    # abe leaves: a deactivated engineer's open assignment no longer counts.
    response = world.people.patch("/api/v1/engineers/abe/", {"active": False}, format="json")
    assert response.status_code == 200, response.content
    after = readiness(world, "2.4.0")
    assert (after["ready"], after["required"], after["complete"], after["completion"]) == (
        True,
        4,
        4,
        1.0,
    )
    assert after["regions"] == {
        "APAC": {"required": 2, "complete": 2},
        "EMEA": {"required": 1, "complete": 1},
        "AMER": {"required": 1, "complete": 1},
    }

    response = make_available(world.pipeline, "2.4.0")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "available"
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.RELEASE_AVAILABLE, release=release)
    assert event.details["readiness"]["ready"] is True
    assert make_available(world.pipeline, "2.4.0").status_code == 200  # a retry changes nothing
    assert AuditEvent.objects.filter(kind=AuditEvent.Kind.RELEASE_AVAILABLE).count() == 1


def test_an_override_is_kept_with_who_when_why_and_the_readiness_at_that_moment(
    celery_worker, world
):
    release = record_and_publish(
        world,
        celery_worker,
        version="2.5.0",
        customer_at=minute(timezone.now()) + timedelta(days=3),
        skills=[[world.skills.push]],
    )
    complete(release, "ada", "ari")
    at_that_moment = readiness(world, "2.5.0")
    reason = "Customer escalation: ship the push fix now; EMEA and AMER train this week."

    denied = make_available(world.pipeline, "2.5.0", {"override": True, "reason": reason})
    assert denied.status_code == 403
    unexplained = make_available(world.overrider, "2.5.0", {"override": True, "reason": " "})
    assert unexplained.status_code == 400
    assert "reason" in unexplained.json()
    assert Release.objects.get(pk=release.pk).status == Release.Status.PUBLISHED

    response = make_available(world.overrider, "2.5.0", {"override": True, "reason": reason})

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "available"
    event = AuditEvent.objects.get(kind=AuditEvent.Kind.RELEASE_OVERRIDE)
    assert event.release_id == release.pk
    assert event.token.name == "releases:override" and event.actor is None
    assert event.details["by"] == "token:releases:override"
    assert event.details["reason"] == reason
    assert datetime.fromisoformat(event.details["at"]) == event.created_at
    snapshot = event.details["readiness"]
    assert snapshot["ready"] is False
    assert (
        snapshot["blocking"]
        == at_that_moment["blocking"]
        == [
            "completion 40% is below 90%",
            "EMEA has no complete engineer",
            "AMER has no complete engineer",
        ]
    )
    for key in ("required", "complete", "exempt", "overdue", "completion", "regions", "policy"):
        assert snapshot[key] == at_that_moment[key], key
    assert datetime.fromisoformat(snapshot["due_at"]) == datetime.fromisoformat(
        at_that_moment["due_at"].replace("Z", "+00:00")
    )
    release.refresh_from_db()
    assert release.available_at == event.created_at


# --- reminders, escalations, a slipped customer date ---------------------------------


def run_twice(task) -> list[int]:
    """As a second beat tick or a retried task would: the task object, in process."""
    return [task(), task()]


def outbox_to() -> list[str]:
    return sorted(address for message in mail.outbox for address in message.to)


def test_reminders_and_escalations_are_sent_once_and_follow_a_slipped_customer_date(
    celery_worker, world
):
    # eve's current skill records cover the release: she is exempt, never reminded.
    SkillRecordFactory(engineer=world.engineers["eve"], skill=world.skills.ordering, level=3)
    now = minute(timezone.now())
    release = record_and_publish(
        world,
        celery_worker,
        version="3.0.0",
        customer_at=now + timedelta(days=10),
        skills=[[world.skills.ordering]],
    )
    due = release.due_at  # customer date less the 48-hour lead time
    complete(release, "ada")
    course = Course.objects.get(release=release)
    # A lead gives the release course by hand to wes, of another team, with a date.
    lead_due = due + timedelta(days=10)
    response = world.assigner.post(
        "/api/v1/assignments/",
        {"course": course.slug, "engineers": ["wes"], "due_at": lead_due.isoformat()},
        format="json",
    )
    assert response.status_code == 201 and response.json() == {"created": 1, "existing": 0}
    open_engineers = ["abe", "amy", "ari"]
    addresses = [f"{name}@example.com" for name in open_engineers]

    with time_machine.travel(due - timedelta(hours=60), tick=False):
        assert run_twice(tasks.send_reminders) == [3, 0]
        assert run_twice(tasks.send_escalations) == [0, 0]
    assert outbox_to() == addresses
    assert all(message.subject == f"Due soon: {course.title}" for message in mail.outbox)

    # Customers get it three days later: the fan-out's due dates move, the lead's stays.
    with time_machine.travel(due - timedelta(hours=50), tick=False):
        new_customer_at = release.customer_available_at + timedelta(days=3)
        response = world.pipeline.patch(
            f"{RELEASES}rtm-android/3.0.0/",
            {"customer_available_at": new_customer_at.isoformat()},
            format="json",
        )
    assert response.status_code == 200, response.content
    new_due = due + timedelta(days=3)
    dates = dict(
        Assignment.objects.filter(course=course).values_list("engineer__user__username", "due_at")
    )
    assert dates == {
        **{name: new_due for name in open_engineers},
        "ada": due,  # complete: its date is history
        "eve": due,  # exempt
        "wes": lead_due,  # set by a lead: kept
    }

    mail.outbox.clear()
    with time_machine.travel(new_due - timedelta(hours=60), tick=False):
        # Past the old due date, but nothing is overdue any more.
        assert run_twice(tasks.send_escalations) == [0, 0]
        assert run_twice(tasks.send_reminders) == [3, 0]
    with time_machine.travel(new_due - timedelta(hours=20), tick=False):
        assert run_twice(tasks.send_reminders) == [3, 0]
    assert outbox_to() == sorted(addresses * 2)

    mail.outbox.clear()
    with time_machine.travel(new_due + timedelta(hours=1), tick=False):
        assert run_twice(tasks.send_escalations) == [2, 0]
        assert run_twice(tasks.send_reminders) == [0, 0]
    by_lead = {tuple(message.to): message.body for message in mail.outbox}
    assert set(by_lead) == {("lena@example.com",), ("erik@example.com",)}
    assert world.engineers["ari"].name in by_lead[("lena@example.com",)]
    for name in ("amy", "abe"):
        assert world.engineers[name].name in by_lead[("erik@example.com",)]
    assert world.engineers["eve"].name not in by_lead[("erik@example.com",)]

    sent = Notification.objects.filter(assignment__course=course)
    assert sorted(
        sent.values_list("assignment__engineer__user__username", "kind", "offset_hours", "due_at")
    ) == sorted(
        [(name, "reminder", 72, due) for name in open_engineers]
        + [(name, "reminder", 72, new_due) for name in open_engineers]
        + [(name, "reminder", 24, new_due) for name in open_engineers]
        + [(name, "escalation", 0, new_due) for name in open_engineers]
    )


def test_a_mail_server_failing_half_way_never_repeats_what_went_out(world):
    """One reminder of three fails mid-batch: only that one is sent again."""
    now = datetime(2031, 1, 6, 9, 0, tzinfo=UTC)
    course = CourseFactory(title="Push 3.1")
    for name in ("ada", "ari", "eve"):
        AssignmentFactory(
            engineer=world.engineers[name],
            course=course,
            assigned_at=now - timedelta(days=3),
            due_at=now + timedelta(hours=20),
        )
    down = True

    def smtp_like(self, messages):
        # Like the SMTP backend: sends in order and raises at the first failure.
        for message in messages:
            if down and message.to == ["ari@example.com"]:
                raise SMTPServerDisconnected("Connection unexpectedly closed")
            mail.outbox.append(message)
        return len(messages)

    with (
        time_machine.travel(now, tick=False),
        pytest.MonkeyPatch.context() as patch,
    ):
        patch.setattr("django.core.mail.backends.locmem.EmailBackend.send_messages", smtp_like)
        assert tasks.send_reminders() == 2
        down = False
        assert run_twice(tasks.send_reminders) == [1, 0]

    assert outbox_to() == ["ada@example.com", "ari@example.com", "eve@example.com"]
    assert Notification.objects.count() == 3
    assert Notification.objects.get(assignment__engineer__user__username="ari").recipients == [
        "ari@example.com"
    ]


def test_an_overdue_assignment_is_escalated_once_its_team_has_a_lead(world):
    now = datetime(2031, 1, 6, 9, 0, tzinfo=UTC)
    world.teams.apac.leads.clear()
    AssignmentFactory(
        engineer=world.engineers["ada"],
        course=CourseFactory(title="Reconnection basics"),
        assigned_at=now - timedelta(days=3),
        due_at=now - timedelta(hours=1),
    )
    with time_machine.travel(now, tick=False):
        assert run_twice(tasks.send_escalations) == [0, 0]
        assert not Notification.objects.exists()  # nobody was told, so nothing is recorded
        world.teams.apac.leads.add(UserFactory(username="luis"))
        assert run_twice(tasks.send_escalations) == [1, 0]
    assert outbox_to() == ["luis@example.com"]


# --- reconcile, through the worker -----------------------------------------------------


def test_reconcile_on_the_worker_repairs_lost_assignments_new_hires_and_team_moves(
    celery_worker, world
):
    onboarding = CourseFactory(slug="how-we-support", title="How we support")
    world.teams.sun.onboarding_courses.add(onboarding)
    release = record_and_publish(
        world,
        celery_worker,
        version="2.6.0",
        customer_at=minute(timezone.now()) + timedelta(days=7),
        skills=[[world.skills.ordering]],
    )
    CourseFactory(release=ReleaseFactory(sdk=world.android, status=Release.Status.AVAILABLE))
    # What lost tasks and a direct HR import leave behind: two assignments gone, a
    # new hire and a team move nobody fanned out to, a leaver, a hire who is inactive.
    Assignment.objects.filter(engineer__user__username__in=["ada", "eve"]).delete()
    nia = EngineerFactory(user=UserFactory(username="nia"), team=world.teams.apac, region="APAC")
    Engineer.objects.filter(user__username="wes").update(team=world.teams.sun)
    Engineer.objects.filter(user__username="abe").update(active=False)
    EngineerFactory(user=UserFactory(username="ina"), team=world.teams.sun, active=False)

    first, second = tasks.reconcile.delay(), tasks.reconcile.delay()

    celery_worker.wait_for(
        lambda: succeeded(celery_worker, first.id) and succeeded(celery_worker, second.id),
        timeout=DEADLINE,
        what="two reconcile runs on the worker",
    )
    # The worker runs them in order: the first repairs everything, the second nothing.
    assert [returned(celery_worker, run.id) for run in (first, second)] == [
        "{'onboarding': 3, 'release': 4}",  # eve, amy, wes | ada, eve, nia, wes
        "{'onboarding': 0, 'release': 0}",
    ]
    trained = Assignment.objects.filter(release=release, reason=Assignment.Reason.RELEASE)
    assert sorted(trained.values_list("engineer__user__username", flat=True)) == sorted(
        ["ada", "ari", "eve", "amy", "abe", "nia", "wes"]
    )
    onboarded = Assignment.objects.filter(course=onboarding, reason=Assignment.Reason.ONBOARDING)
    assert sorted(onboarded.values_list("engineer__user__username", flat=True)) == [
        "amy",
        "eve",
        "wes",
    ]
    assert not Assignment.objects.filter(release__status=Release.Status.AVAILABLE).exists()
    # abe's open assignment stays on record but no longer counts; nia and wes do.
    counts = readiness(world, "2.6.0")
    assert (counts["required"], counts["regions"]["APAC"]["required"]) == (6, 3)
    assert counts["regions"]["EMEA"]["required"] == 2
    assert nia.assignments.get(release=release).status == Assignment.Status.ASSIGNED


# --- the 'release is ready' webhook, through a worker ----------------------------------


class Receiver:
    """An SDK team's endpoint on 127.0.0.1, checking the signature as theirs would."""

    def __init__(self) -> None:
        self.calls: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                headers = {key.lower(): value for key, value in self.headers.items()}
                try:
                    Webhook(SECRET).verify(body, headers)
                    valid = True
                except WebhookVerificationError:
                    valid = False
                receiver.calls.append(
                    {
                        "valid": valid,
                        "delivery": headers.get("webhook-id"),
                        "type": headers.get("content-type"),
                        "body": json.loads(body),
                    }
                )
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/preflight"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


# The session worker's own sends (a task queueing another) go to Celery's default
# queue, which it does not consume: only this process's sends are routed to it. The
# ready-release task queues the delivery task, so it runs on a worker that keeps
# everything it sends on its own queue.
_ROUTED_WORKER = textwrap.dedent(
    """
    import sys
    from training.celery import app

    queue = sys.argv[1]
    app.conf.task_routes = {"*": {"queue": queue}}
    app.worker_main([
        "worker", "--pool=solo", "--concurrency=1", "--without-gossip", "--without-mingle",
        "--without-heartbeat", "--loglevel=INFO", "-Q", queue, "-n", queue + "@%h",
    ])
    """
)


def broker_down(*args, **kwargs):
    raise KombuOperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


def deliveries_settled(worker: Worker) -> bool:
    """The worker has received a delivery task and finished every one it received."""
    log = worker.log()
    received = re.findall(r"deliver_webhook\[([^\]]+)\] received", log)
    return bool(received) and all(f"[{task_id}] succeeded" in log for task_id in received)


@pytest.fixture
def routed_worker(celery_worker, tmp_path):
    queue = celery_worker.queue + "-routed"
    log = tmp_path / "routed-worker.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "training.settings",
        "DATABASE_URL": _database_url(),
        "DATABASE_CONN_MAX_AGE": "0",
        "SECRET_KEY": settings.SECRET_KEY,
        "CELERY_BROKER_URL": settings.CELERY_BROKER_URL,
        "PYTHONUNBUFFERED": "1",
    }
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-c", _ROUTED_WORKER, queue],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    worker = Worker(process, log, queue)
    _route_every_task(to={"*": {"queue": queue}})
    try:
        worker.wait_for(lambda: " ready." in worker.log(), timeout=DEADLINE, what="worker start")
        yield worker
    finally:
        _route_every_task(to={"*": {"queue": celery_worker.queue}})
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def test_a_ready_release_is_announced_once_with_a_signature_the_receiver_verifies(
    routed_worker, world, receiver
):
    world.android.webhook_url, world.android.webhook_secret = receiver.url, SECRET
    world.android.save(update_fields=["webhook_url", "webhook_secret"])
    customer_at = minute(timezone.now()) + timedelta(days=5)
    ready = record_and_publish(
        world, routed_worker, version="2.7.0", customer_at=customer_at, skills=[[]]
    )
    # Not ready, and far enough off not to be at risk either: nothing to announce.
    later = customer_at + timedelta(days=25)
    record_and_publish(world, routed_worker, version="2.8.0", customer_at=later, skills=[[]])
    complete(ready, *IN_SCOPE)

    first, second = tasks.notify_ready_releases.delay(), tasks.notify_ready_releases.delay()

    routed_worker.wait_for(
        lambda: (
            succeeded(routed_worker, first.id)
            and succeeded(routed_worker, second.id)
            and deliveries_settled(routed_worker)
        ),
        timeout=DEADLINE,
        what="the announcement",
    )
    time.sleep(0.5)  # a second POST, were one queued, would have arrived by now
    assert len(re.findall(r"deliver_webhook\[[^\]]+\] received", routed_worker.log())) == 1
    assert len(receiver.calls) == 1
    call = receiver.calls[0]
    delivery = WebhookDelivery.objects.get()
    assert call["valid"] is True
    assert call["type"] == "application/json"
    assert call["delivery"] == delivery.message_id
    body = call["body"]
    assert (body["type"], body["data"]["sdk"], body["data"]["version"]) == (
        "release.ready",
        "rtm-android",
        "2.7.0",
    )
    assert datetime.fromisoformat(body["data"]["customer_available_at"]) == customer_at
    readiness = body["data"]["readiness"]
    assert readiness["ready"] is True and readiness["complete"] == 5
    assert (delivery.release_id, delivery.attempts) == (ready.pk, 1)
    assert delivery.url == receiver.url and delivery.delivered_at is not None
    # The release that is neither ready nor at risk was not announced.
    assert not WebhookDelivery.objects.filter(release__version="2.8.0").exists()


def test_a_delivery_whose_task_was_lost_is_sent_once_by_the_next_run(
    routed_worker, world, receiver, monkeypatch
):
    world.android.webhook_url, world.android.webhook_secret = receiver.url, SECRET
    world.android.save(update_fields=["webhook_url", "webhook_secret"])
    ready = record_and_publish(
        world,
        routed_worker,
        version="2.9.0",
        customer_at=minute(timezone.now()) + timedelta(days=5),
        skills=[[]],
    )
    complete(ready, *IN_SCOPE)
    # Eleven minutes ago the delivery was made while the broker was down: its task
    # could not be queued (core.queue logs that and goes on).
    with (
        monkeypatch.context() as patch,
        time_machine.travel(timezone.now() - timedelta(minutes=11)),
    ):
        patch.setattr(tasks.deliver_webhook, "apply_async", broker_down)
        assert len(webhooks.releases_notify_ready()) == 1
    assert WebhookDelivery.objects.get().attempts == 0

    runs = [tasks.notify_ready_releases.delay(), tasks.notify_ready_releases.delay()]

    routed_worker.wait_for(
        lambda: (
            all(succeeded(routed_worker, run.id) for run in runs)
            and deliveries_settled(routed_worker)
        ),
        timeout=DEADLINE,
        what="the lost delivery sent again",
    )
    time.sleep(0.5)
    assert deliveries_settled(routed_worker)
    assert len(receiver.calls) == 1 and receiver.calls[0]["valid"] is True
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts) == (WebhookDelivery.Status.DELIVERED, 1)
    assert receiver.calls[0]["delivery"] == delivery.message_id


# --- delta training ----------------------------------------------------------------------


def test_an_engineer_whose_current_skills_cover_the_release_is_exempt_and_counted_ready(
    celery_worker, world
):
    ordering, push = world.skills.ordering, world.skills.push
    amy, abe, eve = (world.engineers[name] for name in ("amy", "abe", "eve"))
    SkillRecordFactory(engineer=amy, skill=ordering, level=3)
    SkillRecordFactory(engineer=amy, skill=push, level=4)
    stale = timezone.now() - timedelta(days=settings.PREFLIGHT_SKILL_VALID_DAYS + 1)
    SkillRecordFactory(engineer=abe, skill=ordering, level=4)
    SkillRecordFactory(engineer=abe, skill=push, level=4, verified_at=stale)  # not current
    SkillRecordFactory(engineer=eve, skill=ordering, level=2)  # too low
    SkillRecordFactory(engineer=eve, skill=push, level=2)

    release = record_and_publish(
        world,
        celery_worker,
        version="4.0.0",
        customer_at=minute(timezone.now()) + timedelta(days=6),
        skills=[[ordering], [push, ordering]],
    )

    exempt = Assignment.objects.get(release=release, engineer=amy)
    assert exempt.status == Assignment.Status.EXEMPT and "skill records" in exempt.exempt_reason
    statuses = dict(
        Assignment.objects.filter(release=release).values_list("engineer__user__username", "status")
    )
    assert statuses == {
        "amy": "exempt",
        "abe": "assigned",
        "eve": "assigned",
        "ada": "assigned",
        "ari": "assigned",
    }
    audit = AuditEvent.objects.get(kind=AuditEvent.Kind.ASSIGNMENT_EXEMPT, release=release)
    assert audit.details["engineers"] == ["amy"]

    counts = readiness(world, "4.0.0")
    assert (counts["required"], counts["complete"], counts["exempt"], counts["completion"]) == (
        5,
        0,
        1,
        0.2,
    )
    assert counts["regions"]["AMER"] == {"required": 2, "complete": 1}
    assert "AMER has no complete engineer" not in counts["blocking"]

    complete(release, "ada", "ari", "eve", "abe")
    counts = readiness(world, "4.0.0")
    assert (counts["ready"], counts["complete"], counts["exempt"], counts["completion"]) == (
        True,
        4,
        1,
        1.0,
    )
    assert counts["blocking"] == []
    assert make_available(world.pipeline, "4.0.0").status_code == 200

"""`manage.py demo`: load a demo that shows every part of Preflight.

Everything is written through the services the API uses (SDKs, skills, teams,
engineers, releases, courses, publishing, lessons read, quiz attempts), so the
demo has exactly the state real use would produce. Running it again changes
nothing: each step looks before it writes, and the services are idempotent.
Content lives in training.demo_content.

Passwords are set only on users this command creates or that have no usable
password (as engineers made by the people services do): a real user's password
is never touched.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from core.actors import SYSTEM, Actor
from core.errors import PreflightError
from courses.documents import course_to_document
from courses.models import Course, Lesson, Quiz, Release, Sdk, Skill
from courses.services.catalog import sdk_skill_rules_set, sdk_upsert, skill_upsert
from courses.services.playbooks import playbook_put
from courses.services.releases import release_record
from courses.services.stale import release_mark_stale_playbooks
from training import demo_content as content
from training.models import Assignment, Attempt, Engineer, SkillRecord, Team
from training.readiness import reason_text, release_readiness
from training.services.assignments import (
    assignments_create_manual,
    engineer_assign_backlog,
    release_assign_training,
)
from training.services.attempts import attempt_start, attempt_submit
from training.services.content_review import release_flag_stale_content
from training.services.courses import course_save
from training.services.managers import manager_grant
from training.services.people import engineer_upsert, team_update, team_upsert
from training.services.progress import lesson_mark_read
from training.services.recertification import recertification_assign
from training.services.releases import release_mark_available, release_publish
from training.services.shifts import engineer_shift_set, engineer_time_off_replace, shift_parse

User = get_user_model()
DEFAULT_URL = "http://127.0.0.1:8000/"


def canonical_document(document: dict) -> dict:
    """A course document in the form `course_to_document` gives back, defaults
    filled in, so "is the stored course already this document?" is one `==`."""

    def optional(item: dict, *keys: str) -> dict:
        return {key: item[key] for key in keys if item.get(key)}

    result = {"slug": document["slug"], "title": document["title"]}
    result |= optional(document, "description")
    result["release"] = document.get("release")
    result["language"] = document.get("language", Course.Language.EN)
    result["status"] = document.get("status", Course.Status.PUBLISHED)
    if document.get("recertifies"):
        result["recertifies"] = sorted(set(document["recertifies"]))
    result |= optional(document, "owner", "verify_every_days")
    result["lessons"] = [
        {"title": lesson["title"], "body": lesson["body"]} | optional(lesson, "feature")
        for lesson in document.get("lessons", [])
    ]
    quiz = document.get("quiz")
    if quiz is not None:
        result["quiz"] = {
            "pass_mark": quiz.get("pass_mark", 80),
            "max_attempts": quiz.get("max_attempts", 3),
            "review": quiz.get("review", "after_pass"),
            "questions": [
                {"prompt": question["prompt"], "kind": question.get("kind", "single")}
                | optional(question, "skill", "feature", "explanation")
                | {
                    "choices": [
                        {"text": choice["text"], "correct": True}
                        if choice.get("correct")
                        else {"text": choice["text"]}
                        for choice in question["choices"]
                    ]
                }
                for question in quiz["questions"]
            ],
        }
    return result


def _answers(attempt: Attempt, *, right: bool) -> dict[str, list[str]]:
    """Every right choice of each question the attempt drew, or one wrong one."""
    answers = {}
    for question in attempt.snapshot["questions"]:
        keys = [c["key"] for c in question["choices"] if c["correct"] == right]
        answers[str(question["id"])] = keys if right else keys[:1]
    return answers


def _all_right(attempt: Attempt) -> dict[str, list[str]]:
    """An answer to every question of the attempt, right where a computer grades it,
    and a reply to the customer for the essay."""
    answers: dict[str, list[str]] = {}
    for q in attempt.snapshot["questions"]:
        kind = q["kind"]
        if kind in ("single", "multiple"):
            value = [c["key"] for c in q["choices"] if c["correct"]]
        elif kind == "true_false":
            value = ["true" if q["answer"] else "false"]
        elif kind == "short_answer":
            value = [q["answers"][0]["text"]]
        elif kind == "numeric":
            value = [str(q["value"])]
        elif kind == "ordering":
            place = {key: str(n) for n, key in enumerate(q["order"], start=1)}
            value = [place[item["key"]] for item in q["items"]]
        elif kind == "matching":
            value = [q["pairs"][item["key"]] for item in q["items"]]
        else:
            value = [
                "Hello, the log shows a connection timeout (code 408): the hotel network "
                "is slow to connect. Please raise connectTimeout to 10 s, or try another "
                "network, and send us the SDK version and a log if it happens again."
            ]
        answers[str(q["id"])] = value
    return answers


def _feature_signature(features) -> list[tuple]:
    return [(f["key"], f["title"], f["summary"], tuple(sorted(f["skills"]))) for f in features]


class Command(BaseCommand):
    help = (
        "Load demo data (SDKs, skills, teams, engineers, releases, courses, some "
        "progress) through the services. Safe to run again: nothing is duplicated."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--url",
            default=DEFAULT_URL,
            help="The address the site is served on, to print with the logins "
            "(make run passes its own).",
        )

    def handle(self, *args, **options):
        self.url = options["url"].rstrip("/") + "/"
        self.now = timezone.now()
        self.created: dict[str, int] = {}
        self.new_users: set[str] = set()

        self._catalog()
        self._leads()
        self._managers()
        self._course(content.ONBOARDING_COURSE)
        self._teams()
        shipped = self._shipped()
        self._engineers()
        self._expert_skills()
        releases = [shipped, *self._releases()]
        self._shifts()
        self._progress()
        self._recertification()
        self._question_bank()
        self._item_check()
        self._playbooks()
        kept = self._passwords() + self._admin()
        self._report(releases, kept)

    # --- steps ---------------------------------------------------------------

    def _count(self, what: str, created: bool) -> None:
        self.created[what] = self.created.get(what, 0) + int(created)

    def _catalog(self) -> None:
        for slug, name in content.SDKS:
            _, created = sdk_upsert(slug=slug, name=name)
            self._count("SDKs", created)
        for slug, name in content.SKILLS:
            _, created = skill_upsert(slug=slug, name=name)
            self._count("skills", created)
        for slug, rules in content.SKILL_RULES.items():
            sdk_skill_rules_set(sdk=Sdk.objects.get(slug=slug), rules=rules)

    def _leads(self) -> None:
        # Leads are plain users; no service owns users beyond engineers.
        for lead in content.LEADS:
            user, created = User.objects.get_or_create(
                username=lead["username"],
                defaults={
                    "first_name": lead["first_name"],
                    "last_name": lead["last_name"],
                    "email": f"{lead['username']}@example.com",
                },
            )
            if created:
                self.new_users.add(user.get_username())
            self._count("leads", created)

    def _managers(self) -> None:
        for spec in content.MANAGERS:
            user, created = User.objects.get_or_create(
                username=spec["username"],
                defaults={
                    "first_name": spec["first_name"],
                    "last_name": spec["last_name"],
                    "email": f"{spec['username']}@example.com",
                },
            )
            if created:
                self.new_users.add(user.get_username())
            _, granted = manager_grant(user=user, actor=SYSTEM)
            self._count("support managers", granted)

    def _course(self, document: dict) -> Course:
        wanted = canonical_document(document)
        course = Course.objects.select_related("release__sdk").filter(slug=wanted["slug"]).first()
        if course is not None and course_to_document(course) == wanted:
            return course  # already this document: putting it again would renumber questions
        course, created = course_save(slug=wanted["slug"], document=document, actor=SYSTEM)
        self._count("courses", created)
        return course

    def _playbooks(self) -> None:
        # Putting a playbook again changes nothing but its updated_at: no check first.
        for document in content.PLAYBOOKS:
            _, created = playbook_put(slug=document["slug"], document=document, actor=SYSTEM)
            self._count("playbooks", created)
        # Written after the releases they link to, so the releases' stale check (run
        # when each was published) has not seen them: mark them now, as it would
        # have (idempotent). lena's content review lists the one teaching the login
        # 2.6.0 removed.
        for release in Release.objects.filter(status=Release.Status.PUBLISHED):
            release_mark_stale_playbooks(release)

    def _teams(self) -> None:
        onboarding = [content.ONBOARDING_COURSE["slug"]]
        for spec in content.TEAMS:
            team, created = team_upsert(
                slug=spec["slug"],
                name=spec["name"],
                sdks=spec["sdks"],
                leads=spec["leads"],
                actor=SYSTEM,
            )
            team_update(team=team, onboarding_courses=onboarding, actor=SYSTEM)
            self._count("teams", created)

    def _shipped(self) -> Release:
        """The hotfix already with customers (content.SHIPPED): recorded, published
        and made available over the gate by the support manager, once."""
        spec = content.SHIPPED
        sdk = Sdk.objects.get(slug=spec["sdk"])
        release = Release.objects.filter(sdk=sdk, version=spec["version"]).first()
        if release is not None and release.status == Release.Status.AVAILABLE:
            return release
        if release is None:
            day = self.now + timedelta(days=spec["customer_in_days"])
            release, created = release_record(
                sdk=sdk,
                version=spec["version"],
                customer_available_at=day.replace(hour=9, minute=0, second=0, microsecond=0),
                notes=spec["notes"],
                features=spec["features"],
                actor=SYSTEM,
            )
            self._count("releases", created)
        release, _ = release_publish(release=release, actor=SYSTEM)
        by = User.objects.get(username=spec["override"]["by"])
        release = release_mark_available(
            release=release,
            actor=Actor(user=by),
            override=True,
            reason=spec["override"]["reason"],
        )
        self._count("releases made available over the gate", True)
        return release

    def _engineers(self) -> None:
        for spec in content.ENGINEERS:
            # The engineer may be new while the user is not (a lead, an HR import).
            had_user = User.objects.filter(username=spec["username"]).exists()
            engineer, created = engineer_upsert(**spec, actor=SYSTEM)
            if not had_user:
                self.new_users.add(spec["username"])
            self._count("engineers", created)
            # The service queues this; with a real broker the worker may not have run
            # yet, and the progress below needs the assignments now. Idempotent.
            engineer_assign_backlog(engineer=engineer)

    def _expert_skills(self) -> None:
        # Expert is granted by a person, never by a quiz, so there is no attempt to
        # replay: these records are written as a lead's judgement would be.
        for username, skill_slug, level in content.EXPERT_SKILLS:
            _, created = SkillRecord.objects.get_or_create(
                engineer=Engineer.objects.get(user__username=username),
                skill=Skill.objects.get(slug=skill_slug),
                defaults={"level": level, "verified_at": self.now},
            )
            self._count("expert skill records", created)

    def _releases(self) -> list[Release]:
        releases = []
        for spec in content.RELEASES:
            sdk = Sdk.objects.get(slug=spec["sdk"])
            release = Release.objects.filter(sdk=sdk, version=spec["version"]).first()
            unchanged = release is not None and (
                release.notes == spec["notes"]
                and _feature_signature(
                    {
                        "key": f.key,
                        "title": f.title,
                        "summary": f.summary,
                        "skills": [s.slug for s in f.skills.all()],
                    }
                    for f in release.features.prefetch_related("skills")
                )
                == _feature_signature(spec["features"])
            )
            if not unchanged:
                day = self.now + timedelta(days=spec["customer_in_days"])
                release, created = release_record(
                    sdk=sdk,
                    version=spec["version"],
                    # An existing release keeps its date: the demo never moves it.
                    customer_available_at=release.customer_available_at
                    if release is not None
                    else day.replace(hour=9, minute=0, second=0, microsecond=0),
                    notes=spec["notes"],
                    features=spec["features"],
                    actor=SYSTEM,
                    changelog=spec.get("changelog", ""),
                )
                self._count("releases", created)
            # The course first, so publishing does not make a draft course of its own
            # (a release without one gets the draft: that is what it shows).
            if spec["course"] is not None:
                self._course(spec["course"])
            if spec["publish"]:
                release, newly = release_publish(release=release, actor=SYSTEM)
                self._count("releases published", newly)
                # Queued by publish; run here too so the demo does not wait on a worker.
                release_assign_training(release=release)
                release_flag_stale_content(release_id=release.pk)
            releases.append(release)
        return releases

    def _shifts(self) -> None:
        for username, shift in content.SHIFTS:
            engineer_shift_set(
                engineer=Engineer.objects.get(user__username=username),
                shift=shift_parse(shift),
                actor=SYSTEM,
            )
        launch = Release.objects.get(sdk__slug="rtm-android", version="2.4.0")
        for username, first, last in content.TIME_OFF:
            engineer = Engineer.objects.get(user__username=username)
            day = timezone.localtime(launch.customer_available_at, engineer.zone).date()
            engineer_time_off_replace(
                engineer=engineer,
                ranges=[(day + timedelta(days=first), day + timedelta(days=last))],
                actor=SYSTEM,
            )

    def _progress(self) -> None:
        for username, course_slug, lessons_read, pass_quiz in content.PROGRESS:
            assignment = (
                Assignment.objects.select_related("engineer__user", "course")
                .filter(engineer__user__username=username, course__slug=course_slug)
                .first()
            )
            if assignment is None or assignment.status == Assignment.Status.EXEMPT:
                continue
            for lesson in Lesson.objects.filter(course=assignment.course).order_by("position")[
                :lessons_read
            ]:
                lesson_mark_read(assignment=assignment, lesson=lesson)
            quiz = Quiz.objects.filter(course=assignment.course).first()
            if not pass_quiz or quiz is None:
                continue
            engineer = assignment.engineer
            if pass_quiz == content.LOCKED_OUT:
                self._fail_every_attempt(assignment=assignment, quiz=quiz)
                continue
            if Attempt.objects.filter(engineer=engineer, quiz=quiz, passed=True).exists():
                continue
            try:
                with transaction.atomic():
                    attempt = attempt_start(engineer=engineer, quiz=quiz)
                    attempt_submit(attempt=attempt, answers=_answers(attempt, right=True))
            except PreflightError as exc:  # e.g. every attempt used on a real database
                self.stderr.write(f"Skipped {username}'s quiz on {course_slug}: {exc.detail}")
                continue
            self._count("quizzes passed", True)

    def _fail_every_attempt(self, *, assignment: Assignment, quiz: Quiz) -> None:
        """Wrong answers until the quiz allows no more attempts (none when already so)."""
        engineer = assignment.engineer
        while True:
            try:
                with transaction.atomic():
                    attempt = attempt_start(engineer=engineer, quiz=quiz)
                    attempt_submit(attempt=attempt, answers=_answers(attempt, right=False))
            except PreflightError:  # every attempt used: locked out
                return
            self._count("quizzes failed", True)

    def _question_bank(self) -> None:
        """The drill (a pool and every kind), assigned by lena to her engineers; priya
        has submitted it, so lena meets an essay in her grading queue."""
        document = content.QUESTION_BANK_COURSE
        course = Course.objects.filter(slug=document["slug"]).first()
        if course is None:
            course, created = course_save(slug=document["slug"], document=document, actor=SYSTEM)
            self._count("courses", created)
        lead = User.objects.get(username=content.QUESTION_BANK_LEAD)
        engineers = Engineer.objects.filter(user__username__in=content.QUESTION_BANK_ENGINEERS)
        unassigned = engineers.exclude(assignments__course=course)
        if unassigned.exists():
            assignments_create_manual(
                course=course,
                engineer_ids=list(unassigned.values_list("pk", flat=True)),
                due_at=self.now + timedelta(days=10),
                actor=Actor(user=lead),
            )
        engineer = engineers.get(user__username=content.QUESTION_BANK_SUBMITTED)
        if Attempt.objects.filter(engineer=engineer, quiz=course.quiz).exists():
            return
        attempt = attempt_start(engineer=engineer, quiz=course.quiz, now=self.now)
        attempt_submit(attempt=attempt, answers=_all_right(attempt), now=self.now)

    def _item_check(self) -> None:
        """A check whose key was wrong, taken by twelve of lena's engineers, then
        corrected: the authoring pages show its item analysis and a regrade to run."""
        if Course.objects.filter(slug="rtm-edits-check").exists():
            return
        document = content.item_check_course()
        course, created = course_save(slug=document["slug"], document=document, actor=SYSTEM)
        self._count("courses", created)
        engineers = {
            engineer.username: engineer
            for engineer in Engineer.objects.filter(
                user__username__in=content.ITEM_CHECK_ENGINEERS
            ).select_related("user")
        }
        assignments_create_manual(
            course=course,
            engineer_ids=[engineer.pk for engineer in engineers.values()],
            due_at=self.now + timedelta(days=10),
            actor=Actor(user=User.objects.get(username="lena")),
        )
        for username, picks in zip(
            content.ITEM_CHECK_ENGINEERS, content.ITEM_CHECK_ANSWERS, strict=True
        ):
            engineer = engineers.get(username)
            if engineer is None:
                continue
            for lesson in Lesson.objects.filter(course=course):
                assignment = Assignment.objects.get(engineer=engineer, course=course)
                lesson_mark_read(assignment=assignment, lesson=lesson)
            attempt = attempt_start(engineer=engineer, quiz=course.quiz)
            answers = {}
            for question in attempt.snapshot["questions"]:
                pick = picks[question["uid"]]
                if question["kind"] == "true_false":
                    answers[str(question["id"])] = [pick]
                else:
                    answers[str(question["id"])] = [
                        c["key"] for c in question["choices"] if c["text"] == pick
                    ]
            attempt_submit(attempt=attempt, answers=answers)
        # The key corrected: `edit-window` is now version 2, its attempts await a regrade.
        course_save(
            slug=document["slug"],
            document=content.item_check_course(right=content.ITEM_CHECK_RIGHT),
            actor=SYSTEM,
        )

    def _recertification(self) -> None:
        self._course(content.RECERTIFICATION_COURSE)
        valid = timedelta(days=settings.PREFLIGHT_SKILL_VALID_DAYS)
        for username, skill_slug, level, expires_in_days in content.EXPIRING_SKILLS:
            # Verified long ago, as if by last year's course; kept as it is when there.
            _, created = SkillRecord.objects.get_or_create(
                engineer=Engineer.objects.get(user__username=username),
                skill=Skill.objects.get(slug=skill_slug),
                defaults={
                    "level": level,
                    "verified_at": self.now + timedelta(days=expires_in_days) - valid,
                },
            )
            self._count("expiring skill records", created)
        # The beat runs this hourly; run here so the demo does not wait for it.
        assigned = recertification_assign(now=self.now)
        self._count("recertifications", bool(sum(assigned.values())))

    def _passwords(self) -> list[str]:
        """Set the demo password where it harms nobody; return who kept their own."""
        usernames = (
            [lead["username"] for lead in content.LEADS]
            + [spec["username"] for spec in content.MANAGERS]
            + [spec["username"] for spec in content.ENGINEERS]
        )
        kept = []
        for user in User.objects.filter(username__in=usernames).order_by("username"):
            if user.get_username() in self.new_users or not user.has_usable_password():
                user.set_password(content.DEMO_PASSWORD)
                user.save(update_fields=["password"])
            elif not user.check_password(content.DEMO_PASSWORD):
                kept.append(user.get_username())
        return kept

    def _admin(self) -> list[str]:
        admin = User.objects.filter(username=content.ADMIN_USERNAME).first()
        if admin is None:
            User.objects.create_superuser(
                content.ADMIN_USERNAME, "admin@example.com", content.DEMO_PASSWORD
            )
            self._count("admin users", True)
            return []
        elif content.ADMIN_USERNAME in self.new_users or not admin.has_usable_password():
            admin.set_password(content.DEMO_PASSWORD)
            admin.save(update_fields=["password"])
        elif not admin.check_password(content.DEMO_PASSWORD):
            return [content.ADMIN_USERNAME]
        return []

    # --- output --------------------------------------------------------------

    def _report(self, releases: list[Release], kept: list[str]) -> None:
        out = self.stdout
        totals = [
            ("SDKs", Sdk.objects.count()),
            ("skills", Skill.objects.count()),
            ("teams", Team.objects.count()),
            ("engineers", Engineer.objects.count()),
            ("releases", Release.objects.count()),
            ("courses", Course.objects.count()),
            ("assignments", Assignment.objects.count()),
            ("skill records", SkillRecord.objects.count()),
        ]
        new = sum(self.created.values())
        out.write(
            self.style.SUCCESS(
                "Demo data loaded." if new else "Demo data already loaded; nothing changed."
            )
        )
        out.write("  " + ", ".join(f"{count} {label}" for label, count in totals))
        for release in releases:
            due = release.due_at
            risk = ""
            if release.status == Release.Status.PUBLISHED:
                # The console's own rule and words (training.readiness.policy).
                readiness = release_readiness(release)
                words = [reason_text(item) for item in readiness["reasons"]]
                words += [reason_text(item) for item in readiness["risks"]]
                if readiness["at_risk"]:
                    risk = "  AT RISK"
                if words:
                    risk += "  (" + "; ".join(words) + ")"
            out.write(
                f"  {release.sdk.slug} {release.version}: {release.status}, customers "
                f"{release.customer_available_at:%Y-%m-%d %H:%M} UTC, training due "
                f"{due:%Y-%m-%d %H:%M} UTC{risk}"
            )
        out.write("")
        out.write(self.style.MIGRATE_HEADING(f"Open {self.url} and log in as:"))
        out.write("  engineer  alice  (APAC, Asia/Shanghai; also bob, wei, marcus …)")
        out.write("  lead      lena   (APAC RTM; also leo for EMEA, lara for AMER)")
        out.write("  manager   maya   (support manager: every team and region)")
        out.write(f"  releases  {self.url}lead/releases/  (every release: drafts, past ones)")
        out.write(f"  admin     {content.ADMIN_USERNAME}  ({self.url}admin/)")
        out.write(f"  password  {content.DEMO_PASSWORD}  (the same for every demo user)")
        out.write('  search    playbooks from the header: try "reconnect" or "推送"')
        if kept:
            out.write(
                self.style.WARNING(
                    "  These users already had a password, which was kept: " + ", ".join(kept)
                )
            )

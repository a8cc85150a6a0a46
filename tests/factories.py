"""factory_boy factories for every model. Defaults make a valid, minimal object."""

from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from courses.models import Choice, Course, Feature, Lesson, Question, Quiz, Release, Sdk, Skill
from courses.versions import Version
from training.models import Assignment, Engineer, ReadinessSnapshot, SkillRecord, Team


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")
    password = factory.django.Password("correct horse battery staple")


class SdkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sdk
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"sdk-{n}")
    name = factory.LazyAttribute(lambda s: s.slug.upper())


class SkillFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Skill
        django_get_or_create = ("slug",)

    slug = factory.Sequence(lambda n: f"skill-{n}")
    name = factory.LazyAttribute(lambda s: s.slug.replace("-", " ").title())


class ReadinessSnapshotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReadinessSnapshot


class ReleaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Release
        skip_postgeneration_save = True

    sdk = factory.SubFactory(SdkFactory)
    version = factory.Sequence(lambda n: f"1.{n}.0")
    sort_key = factory.LazyAttribute(lambda r: Version.parse(r.version).sort_key)
    customer_available_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=14))
    status = Release.Status.DRAFT
    published_at = factory.LazyAttribute(
        lambda r: None if r.status == Release.Status.DRAFT else timezone.now()
    )
    available_at = factory.LazyAttribute(
        lambda r: timezone.now() if r.status == Release.Status.AVAILABLE else None
    )
    # As release_record makes it (the readiness selector also makes one if missing).
    readiness_snapshot = factory.RelatedFactory(
        ReadinessSnapshotFactory, factory_related_name="release"
    )


class FeatureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Feature
        skip_postgeneration_save = True

    release = factory.SubFactory(ReleaseFactory)
    key = factory.Sequence(lambda n: f"feature-{n}")
    title = factory.LazyAttribute(lambda f: f.key.replace("-", " ").capitalize())
    summary = "What it does and how support should explain it."

    @factory.post_generation
    def skills(self, create, extracted, **kwargs):
        if create and extracted:
            self.skills.set(extracted)


class CourseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Course

    slug = factory.Sequence(lambda n: f"course-{n}")
    title = factory.LazyAttribute(lambda c: c.slug.replace("-", " ").title())
    release = None


class LessonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lesson

    course = factory.SubFactory(CourseFactory)
    position = factory.Sequence(lambda n: n)
    title = factory.Sequence(lambda n: f"Lesson {n}")
    body = "# Heading\n\nSome **Markdown**."


class QuizFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Quiz

    course = factory.SubFactory(CourseFactory)
    pass_mark = 80
    max_attempts = 3


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Question

    quiz = factory.SubFactory(QuizFactory)
    position = factory.Sequence(lambda n: n)
    prompt = factory.Sequence(lambda n: f"Question {n}?")
    kind = Question.Kind.SINGLE
    skill = factory.SubFactory(SkillFactory)
    explanation = "Because the docs say so."


class ChoiceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Choice

    question = factory.SubFactory(QuestionFactory)
    position = factory.Sequence(lambda n: n)
    text = factory.Sequence(lambda n: f"Choice {n}")
    correct = False


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team
        django_get_or_create = ("slug",)
        skip_postgeneration_save = True

    slug = factory.Sequence(lambda n: f"team-{n}")
    name = factory.LazyAttribute(lambda t: t.slug.replace("-", " ").title())

    @factory.post_generation
    def sdks(self, create, extracted, **kwargs):
        if create and extracted:
            self.sdks.set(extracted)

    @factory.post_generation
    def leads(self, create, extracted, **kwargs):
        if create and extracted:
            self.leads.set(extracted)


class EngineerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Engineer

    user = factory.SubFactory(UserFactory)
    team = factory.SubFactory(TeamFactory)
    tier = "L1"
    region = "APAC"
    timezone = "Asia/Shanghai"


class AssignmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Assignment

    engineer = factory.SubFactory(EngineerFactory)
    course = factory.SubFactory(CourseFactory)
    release = factory.LazyAttribute(lambda a: a.course.release)
    reason = Assignment.Reason.LEAD
    due_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=7))


class SkillRecordFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SkillRecord

    engineer = factory.SubFactory(EngineerFactory)
    skill = factory.SubFactory(SkillFactory)
    level = 3

"""The lead pages, under /lead/ (training.views.lead)."""

from django.urls import path

from training.views import content_review, lead, lead_people, lead_releases, shifts

urlpatterns = [
    path("", lead.lead_home, name="lead_home"),
    path("assign/", lead.lead_assign, name="lead_assign"),
    path(
        "assignments/<int:pk>/cancel/",
        lead.lead_assignment_cancel,
        name="lead_assignment_cancel",
    ),
    path(
        "assignments/<int:pk>/attempts/",
        lead.lead_assignment_grant,
        name="lead_assignment_grant",
    ),
    path(
        "assignments/<int:pk>/extend/",
        lead.lead_assignment_extend,
        name="lead_assignment_extend",
    ),
    path(
        "assignments/<int:pk>/nudge/",
        lead_people.lead_assignment_nudge,
        name="lead_assignment_nudge",
    ),
    path("engineers/<str:username>/", lead_people.lead_engineer, name="lead_engineer"),
    path("engineers/<str:username>/shift/", shifts.lead_engineer_shift, name="lead_engineer_shift"),
    path("profile/", lead_people.lead_profile, name="lead_profile"),
    path("content/", content_review.lead_content, name="lead_content"),
    path(
        "content/<slug:slug>/verify/",
        content_review.lead_course_verify,
        name="lead_course_verify",
    ),
    path("releases/", lead_releases.lead_releases, name="lead_releases"),
    path("releases/<slug:sdk>/<str:version>/", lead.lead_release, name="lead_release"),
    path(
        "releases/<slug:sdk>/<str:version>/coverage/strip/",
        lead.lead_release_coverage_strip,
        name="lead_release_coverage_strip",
    ),
    path(
        "releases/<slug:sdk>/<str:version>/coverage/assign/",
        lead.lead_coverage_assign,
        name="lead_coverage_assign",
    ),
    path(
        "releases/<slug:sdk>/<str:version>/availability/",
        lead.lead_release_availability,
        name="lead_release_availability",
    ),
]

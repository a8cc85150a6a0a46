from django.urls import include, path

from training.views import auth, calendar, engineer, grading, language, playbooks, shifts

urlpatterns = [
    # Signed in: the dashboard; otherwise login_required sends the visitor to sign-in.
    path("", engineer.home, name="home"),
    path("accounts/login/", auth.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth.PasswordChangeView.as_view(), name="password_change"),
    path("assignments/<int:pk>/", engineer.assignment_detail, name="assignment"),
    path("assignments/<int:pk>/resume/", engineer.assignment_resume, name="assignment_resume"),
    path("assignments/<int:pk>/lessons/<int:position>/", engineer.lesson_detail, name="lesson"),
    path(
        "assignments/<int:pk>/lessons/<int:position>/read/",
        engineer.lesson_read,
        name="lesson_read",
    ),
    path("assignments/<int:pk>/quiz/", engineer.quiz_detail, name="quiz"),
    path("assignments/<int:pk>/quiz/start/", engineer.quiz_start, name="quiz_start"),
    path("attempts/<int:pk>/", engineer.attempt_detail, name="attempt"),
    path("skills/", engineer.skills, name="skills"),
    path("shift/", shifts.my_shift, name="my_shift"),
    # Graders (leads, the grader role): essays awaiting a grade (training.views.grading).
    path("grading/", grading.grading_queue, name="grading_queue"),
    path("grading/<int:pk>/", grading.grading_attempt, name="grading_attempt"),
    # Playbooks: search from the header of every page, and one playbook.
    path("playbooks/", playbooks.playbook_search_page, name="playbook_search"),
    path("playbooks/<slug:slug>/", playbooks.playbook_page, name="playbook"),
    path("playbooks/<slug:slug>/verify/", playbooks.playbook_verify_page, name="playbook_verify"),
    path("language/", language.language_set, name="language_set"),
    path("calendar/reset/", engineer.calendar_reset, name="calendar_reset"),
    path("calendar/<str:token>.ics", calendar.calendar_feed, name="calendar_feed"),
    # Leads: readiness console, assigning, overrides (training.views.lead).
    path("lead/", include("training.views.lead_urls")),
    # Authors and managers: item analysis, regrades (training.views.authoring).
    path("authoring/", include("training.views.authoring_urls")),
    # Leads: skill matrix, CSV export, expert finder (training.views.matrix).
    path("team/", include("training.views.matrix_urls")),
]

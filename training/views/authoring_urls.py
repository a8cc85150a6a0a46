"""The authoring pages, under /authoring/ (training.views.authoring)."""

from django.urls import path

from training.views import authoring

urlpatterns = [
    path("", authoring.authoring_home, name="authoring_home"),
    path("courses/<slug:slug>/items/", authoring.item_analysis_page, name="item_analysis"),
    path("courses/<slug:slug>/items.csv", authoring.item_analysis_csv, name="item_analysis_csv"),
    path(
        "courses/<slug:slug>/questions/<path:uid>/regrade/",
        authoring.question_regrade_page,
        name="question_regrade",
    ),
]

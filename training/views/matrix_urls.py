from django.urls import path

from training.views import matrix

urlpatterns = [
    path("matrix/", matrix.team_matrix, name="team_matrix"),
    path("matrix.csv", matrix.team_matrix_csv, name="team_matrix_csv"),
    path("experts/", matrix.team_experts, name="team_experts"),
]

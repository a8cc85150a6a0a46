from django.urls import path, re_path

from training.api.scim import views

urlpatterns = [
    path("ServiceProviderConfig", views.ServiceProviderConfigView.as_view()),
    path("ResourceTypes", views.ResourceTypesView.as_view()),
    path("ResourceTypes/<str:pk>", views.ResourceTypesView.as_view()),
    path("Schemas", views.SchemasView.as_view()),
    path("Schemas/<str:pk>", views.SchemasView.as_view()),
    path("Users", views.UsersView.as_view(), name="scim-users"),
    path("Users/.search", views.UsersSearchView.as_view()),
    path("Users/<str:pk>", views.UserView.as_view(), name="scim-user"),
    path("Groups", views.GroupsView.as_view(), name="scim-groups"),
    path("Groups/.search", views.GroupsSearchView.as_view()),
    path("Groups/<str:pk>", views.GroupView.as_view(), name="scim-group"),
    re_path(r"^(?P<rest>.*)$", views.NotFoundView.as_view()),
]

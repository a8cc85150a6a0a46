"""/scim/v2/ routes. The views import scim2-models, whose pydantic models take
seconds to build: they are imported at the first SCIM request, not when a web
process loads its URLs, so pages and API v1 start as fast as before."""

from functools import cache
from importlib import import_module

from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt


def _view(name: str):
    @cache
    def load():
        return getattr(import_module("training.api.scim.views"), name).as_view()

    @csrf_exempt  # bearer tokens only: no cookie, so no cross-site request to forge
    def view(request, *args, **kwargs):
        return load()(request, *args, **kwargs)

    return view


urlpatterns = [
    path("ServiceProviderConfig", _view("ServiceProviderConfigView"), name="scim-config"),
    path("ResourceTypes", _view("ResourceTypesView"), name="scim-resource-types"),
    path("ResourceTypes/<str:pk>", _view("ResourceTypesView")),
    path("Schemas", _view("SchemasView"), name="scim-schemas"),
    path("Schemas/<str:pk>", _view("SchemasView")),
    path("Users", _view("UsersView"), name="scim-users"),
    path("Users/.search", _view("UsersSearchView")),
    path("Users/<str:pk>", _view("UserView"), name="scim-user"),
    path("Groups", _view("GroupsView"), name="scim-groups"),
    path("Groups/.search", _view("GroupsSearchView")),
    path("Groups/<str:pk>", _view("GroupView"), name="scim-group"),
    path(".search", _view("RootSearchView")),
    re_path(r"^(?P<rest>.*)$", _view("NotFoundView")),
]

"""SCIM 2.0 (RFC 7643/7644) at /scim/v2/: an identity provider provisions
engineers (Users) and teams (Groups) with a bearer token of scope `scim`.

Thin views: parse and validate the SCIM document with scim2-models, call one
service (training.services.scim), answer the resource as read back. Every error,
ours or DRF's, is answered in SCIM's error format (RFC 7644 §3.12).
"""

import logging
from typing import Any

from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext
from pydantic import ValidationError
from rest_framework import exceptions, renderers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from scim2_filter_parser.attr_paths import AttrPath
from scim2_filter_parser.lexer import SCIMLexer
from scim2_filter_parser.parser import SCIMParser
from scim2_filter_parser.transpilers.django_q_object import Transpiler
from scim2_models import (
    AuthenticationScheme,
    Bulk,
    ChangePassword,
    Context,
    Error,
    ETag,
    Filter,
    ListResponse,
    Meta,
    Patch,
    PatchOp,
    ResourceType,
    ResponseParameters,
    SCIMException,
    SearchRequest,
    ServiceProviderConfig,
    Sort,
)

from core.actors import Actor
from core.errors import Conflict, InvalidInput, NotFound
from core.scopes import Scope
from training.api.authentication import BearerTokenAuthentication
from training.api.parsers import JSONParser
from training.api.scim.resources import (
    ENGINEER_SCHEMA,
    GROUP_SCHEMA,
    USER_SCHEMA,
    EngineerExtension,
    ScimGroup,
    ScimUser,
)
from training.models import Engineer, Team
from training.selectors.scim import scim_engineers, scim_page, scim_teams
from training.services.people import language_for_tag
from training.services.scim import (
    ScimUserFields,
    scim_group_create,
    scim_group_delete,
    scim_group_update,
    scim_user_create,
    scim_user_delete,
    scim_user_update,
)

logger = logging.getLogger(__name__)

User = ScimUser  # the core schema with Preflight's extension
MAX_COUNT = 1000
MAX_START = 2**31  # past any real list; keeps OFFSET within every database's integers
# Attributes of a User that Preflight keeps as sent (Engineer.scim_attributes).
_KEPT = ("displayName", "name", "emails", "locale", "preferredLanguage")
_LANGUAGE_TAGS = {"en": "en", "zh-hans": "zh-Hans"}

USER_FILTERS = {
    ("userName", None, None): "user__username",
    ("id", None, None): "user_id",
    ("externalId", None, None): "external_id",
    ("active", None, None): "active",
    ("emails", None, None): "user__email",
    ("emails", "value", None): "user__email",
    ("name", "givenName", None): "user__first_name",
    ("name", "familyName", None): "user__last_name",
    ("timezone", None, None): "timezone",
    ("team", None, ENGINEER_SCHEMA): "team__slug",
    ("region", None, ENGINEER_SCHEMA): "region",
    ("tier", None, ENGINEER_SCHEMA): "tier",
}
GROUP_FILTERS = {
    ("displayName", None, None): "name",
    ("id", None, None): "pk",
    ("externalId", None, None): "external_id",
    ("members", "value", None): "engineers__user_id",
    ("members", None, None): "engineers__user_id",
}


# --- errors ------------------------------------------------------------------------


class ScimError(exceptions.APIException):
    def __init__(self, status_code: int, detail: str, scim_type: str | None = None):
        super().__init__(detail)
        self.status_code = status_code
        self.scim_type = scim_type


def _error(status_code: int, detail: Any, scim_type: str | None = None, headers=None) -> Response:
    body = Error(status=status_code, scim_type=scim_type, detail=str(detail)).model_dump(
        scim_ctx=Context.RESOURCE_QUERY_RESPONSE
    )
    return Response(body, status=status_code, headers=headers)


def _flatten(detail: Any) -> str:
    if isinstance(detail, dict):
        return "; ".join(f"{field}: {_flatten(value)}" for field, value in detail.items())
    if isinstance(detail, list):
        return " ".join(_flatten(item) for item in detail)
    return str(detail)


def scim_exception_handler(exc: Exception, context: dict) -> Response | None:
    """Every error in SCIM's format: `urn:ietf:params:scim:api:messages:2.0:Error`,
    `status` (a string, as RFC 7644 §3.12 writes it) and `scimType` where one fits."""
    if isinstance(exc, ScimError):
        return _error(exc.status_code, exc.detail, exc.scim_type)
    if isinstance(exc, SCIMException):
        error = exc.to_error()
        return _error(int(error.status or 400), error.detail, error.scim_type)
    if isinstance(exc, ValidationError):
        messages = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" if e["loc"] else e["msg"]
            for e in exc.errors(include_url=False)
        )
        return _error(400, messages or gettext("Invalid value."), "invalidValue")
    if isinstance(exc, InvalidInput):
        return _error(400, _flatten(exc.detail), "invalidValue")
    if isinstance(exc, Conflict):
        return _error(409, exc.detail, "uniqueness")
    if isinstance(exc, NotFound | Http404):
        return _error(404, gettext("Not found."))
    if isinstance(exc, exceptions.ParseError):
        return _error(400, exc.detail, "invalidSyntax")
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        return _error(401, exc.detail, headers={"WWW-Authenticate": 'Bearer realm="scim"'})
    if isinstance(exc, exceptions.Throttled):
        wait = getattr(exc, "wait", None)
        headers = {"Retry-After": str(int(wait))} if wait else None
        return _error(429, exc.detail, headers=headers)
    if isinstance(exc, exceptions.APIException):
        return _error(exc.status_code, _flatten(exc.detail))
    return None


# --- plumbing ----------------------------------------------------------------------


class ScimJSONParser(JSONParser):
    media_type = "application/scim+json"


class ScimJSONRenderer(renderers.JSONRenderer):
    media_type = "application/scim+json"


class ScimView(APIView):
    """Bearer token with scope `scim`, for reading too; no session: SCIM is a
    machine's protocol (and so needs no CSRF token)."""

    authentication_classes = [BearerTokenAuthentication]
    scope = Scope.SCIM
    parser_classes = [ScimJSONParser, JSONParser]
    renderer_classes = [ScimJSONRenderer, renderers.JSONRenderer]
    schema = None  # not part of API v1's OpenAPI document

    def get_exception_handler(self):
        return scim_exception_handler

    def base(self, request: Request) -> str:
        return request.build_absolute_uri("/scim/v2")

    def body(self, request: Request) -> dict[str, Any]:
        data = request.data
        if not isinstance(data, dict):
            raise ScimError(400, gettext("The body must be a JSON object."), "invalidSyntax")
        return data


def _int_param(request: Request, name: str, default: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ScimError(
            400, gettext("%(name)s must be a whole number.") % {"name": name}, "invalidValue"
        ) from None


def _attribute_params(request: Request, model: Any) -> dict[str, Any]:
    """`attributes` / `excludedAttributes` (RFC 7644 §3.9), resolved against the
    model; an unknown attribute is a 400."""
    attributes = request.query_params.get("attributes") or None
    excluded = request.query_params.get("excludedAttributes") or None
    if attributes is None and excluded is None:
        return {}
    parameters = ResponseParameters[model].model_validate(
        {"attributes": attributes, "excludedAttributes": excluded}
    )
    return {"response_parameters": parameters}


def _filtered(queryset, request: Request, attr_map: dict):
    raw = request.query_params.get("filter")
    if not raw:
        return queryset
    if len(raw) > 1000:
        raise ScimError(400, gettext("The filter is too long."), "invalidFilter")
    try:
        paths = AttrPath(raw, attr_map)
        unknown = [
            ".".join(part for part in (path.attr_name, path.sub_attr) if part)
            for path in paths
            if path not in attr_map
        ]
        if unknown:
            raise ScimError(
                400,
                gettext("Cannot filter on %(attributes)s.") % {"attributes": ", ".join(unknown)},
                "invalidFilter",
            )
        tree = SCIMParser().parse(SCIMLexer().tokenize(raw))
        query = Transpiler(attr_map).transpile(tree)
    except ScimError:
        raise
    except Exception as exc:  # the parser's own errors: a malformed filter is a 400
        raise ScimError(
            400, gettext("The filter is not valid: %(error)s") % {"error": exc}, "invalidFilter"
        ) from None
    return queryset.filter(query).distinct()


def _page(request: Request, queryset, to_resource, model, to_document=None) -> Response:
    start = min(max(_int_param(request, "startIndex", 1), 1), MAX_START)
    count = min(max(_int_param(request, "count", 100), 0), MAX_COUNT)
    return _page_of(request, queryset, to_resource, model, start, count, to_document)


def _page_of(
    request: Request, queryset, to_resource, model, start: int, count: int, to_document=None
) -> Response:
    total, rows = scim_page(queryset, offset=start - 1, limit=count)
    if to_document is not None and not _attribute_params(request, model):
        return Response(
            {
                "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
                "totalResults": total,
                "startIndex": start,
                "itemsPerPage": len(rows),
                "Resources": [to_document(row) for row in rows],
            }
        )
    resources = [to_resource(row) for row in rows]
    listed = ListResponse[model](
        total_results=total, start_index=start, items_per_page=len(resources), resources=resources
    )
    return Response(
        listed.model_dump(
            scim_ctx=Context.RESOURCE_QUERY_RESPONSE, **_attribute_params(request, model)
        )
    )


def _resource_response(request: Request, resource, status_code: int = 200) -> Response:
    body = resource.model_dump(
        scim_ctx=Context.RESOURCE_QUERY_RESPONSE, **_attribute_params(request, type(resource))
    )
    headers = {"Location": resource.meta.location} if status_code == 201 else None
    return Response(body, status=status_code, headers=headers)


# --- Users -------------------------------------------------------------------------


def _timestamp(value) -> str:
    return value.isoformat().replace("+00:00", "Z")


def user_document(engineer: Engineer, base: str) -> dict[str, Any]:
    """An engineer as a SCIM User document, as scim2-models dumps it (a test holds
    the two equal): what Preflight uses from its rows, the rest as the identity
    provider last sent it. Built as a plain dict because a list page of 100 users
    through pydantic costs ten times as much (bench: SCIM Users page)."""
    user = engineer.user
    kept = engineer.scim_attributes if isinstance(engineer.scim_attributes, dict) else {}
    doc: dict[str, Any] = {
        "schemas": [USER_SCHEMA, ENGINEER_SCHEMA],
        "id": str(user.pk),
    }
    if engineer.external_id:
        doc["externalId"] = engineer.external_id
    created = _timestamp(engineer.created_at)
    doc["meta"] = {
        "resourceType": "User",
        "created": created,
        "lastModified": created,
        "location": f"{base}/Users/{user.pk}",
    }
    doc[ENGINEER_SCHEMA] = {
        "team": engineer.team.slug if engineer.team is not None else None,
        "region": engineer.region,
        "tier": engineer.tier,
    }
    if doc[ENGINEER_SCHEMA]["team"] is None:
        del doc[ENGINEER_SCHEMA]["team"]
    doc["userName"] = user.username
    full_name = f"{user.first_name} {user.last_name}".strip()
    name = kept.get("name") if isinstance(kept.get("name"), dict) else None
    kept_full = " ".join(
        part for part in ((name or {}).get("givenName"), (name or {}).get("familyName")) if part
    )
    if name and kept_full == full_name:
        doc["name"] = name
    elif full_name:
        doc["name"] = {
            k: v for k, v in (("familyName", user.last_name), ("givenName", user.first_name)) if v
        }
    if kept.get("displayName"):
        doc["displayName"] = kept["displayName"]
    kept_emails = kept.get("emails")
    emails: list[Any] = kept_emails if isinstance(kept_emails, list) else []
    if any(
        isinstance(e, dict) and str(e.get("value", "")).lower() == user.email.lower()
        for e in emails
    ):
        doc["emails"] = emails
    elif user.email:
        doc["emails"] = [{"value": user.email, "primary": True}]
    if language_for_tag(kept.get("preferredLanguage")) == engineer.language:
        doc["preferredLanguage"] = kept["preferredLanguage"]
    else:
        doc["preferredLanguage"] = _LANGUAGE_TAGS.get(engineer.language, engineer.language)
    if kept.get("locale"):
        doc["locale"] = kept["locale"]
    doc["timezone"] = engineer.timezone
    doc["active"] = engineer.active
    return doc


def user_resource(engineer: Engineer, base: str) -> Any:
    """The same engineer as a scim2-models resource (to PATCH, or to answer with
    `attributes` applied)."""
    return User.model_validate(user_document(engineer, base))


def user_fields(resource: Any) -> ScimUserFields:
    """A validated SCIM User as the values Preflight keeps."""
    if not resource.user_name:
        raise ScimError(400, gettext("userName is required."), "invalidValue")
    fields: ScimUserFields = {"username": resource.user_name}
    name = resource.name
    fields["name"] = " ".join(p for p in ((name.given_name, name.family_name) if name else ()) if p)
    emails = resource.emails or []
    primary = next((e for e in emails if e.primary), emails[0] if emails else None)
    fields["email"] = (primary.value or "") if primary else ""
    if resource.active is not None:
        fields["active"] = resource.active
    if resource.timezone:
        fields["timezone"] = resource.timezone
    language = language_for_tag(resource.preferred_language) or language_for_tag(resource.locale)
    if language:
        fields["language"] = language
    fields["external_id"] = resource.external_id or ""
    extension = resource[EngineerExtension]
    if extension is not None:
        if "team" in extension.model_fields_set:
            fields["team"] = extension.team or None
        if extension.region:
            fields["region"] = extension.region
        if extension.tier:
            fields["tier"] = extension.tier
    dumped = resource.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE)
    fields["extra"] = {key: dumped[key] for key in _KEPT if key in dumped}
    return fields


def _parse(model, data: dict, ctx: Context):
    return model.model_validate(data, scim_ctx=ctx)


def _engineer(pk: str) -> Engineer:
    if not pk.isdigit() or len(pk) > 18:
        raise Http404
    return get_object_or_404(scim_engineers(), user_id=int(pk))


class UsersView(ScimView):
    def get(self, request: Request) -> Response:
        base = self.base(request)
        queryset = _filtered(scim_engineers(), request, USER_FILTERS)
        return _page(
            request,
            queryset,
            lambda e: user_resource(e, base),
            User,
            to_document=lambda e: user_document(e, base),
        )

    def post(self, request: Request) -> Response:
        resource = _parse(User, self.body(request), Context.RESOURCE_CREATION_REQUEST)
        engineer = scim_user_create(fields=user_fields(resource), actor=Actor.from_request(request))
        engineer = scim_engineers().get(pk=engineer.pk)
        return _resource_response(request, user_resource(engineer, self.base(request)), 201)


def _search(request: Request, view: ScimView, queryset, attr_map, to_resource, model) -> Response:
    """POST …/.search (RFC 7644 §3.4.3): the query of a GET, in the body."""
    search = _parse(SearchRequest, view.body(request), Context.SEARCH_REQUEST)
    params = request.query_params.copy()
    if search.filter is not None:
        params["filter"] = str(search.filter)
    if search.attributes:
        params["attributes"] = ",".join(str(a) for a in search.attributes)
    if search.excluded_attributes:
        params["excludedAttributes"] = ",".join(str(a) for a in search.excluded_attributes)
    # The query of the body, where the list code reads a GET's (attributes, filter).
    request._request.GET = params  # type: ignore[assignment]
    start = min(max(search.start_index or 1, 1), MAX_START)
    count = min(max(search.count if search.count is not None else 100, 0), MAX_COUNT)
    queryset = _filtered(queryset, request, attr_map)
    return _page_of(request, queryset, to_resource, model, start, count)


class UsersSearchView(ScimView):
    def post(self, request: Request) -> Response:
        base = self.base(request)
        return _search(
            request, self, scim_engineers(), USER_FILTERS, lambda e: user_resource(e, base), User
        )


class GroupsSearchView(ScimView):
    def post(self, request: Request) -> Response:
        base = self.base(request)
        return _search(
            request, self, scim_teams(), GROUP_FILTERS, lambda t: group_resource(t, base), ScimGroup
        )


class UserView(ScimView):
    def get(self, request: Request, pk: str) -> Response:
        return _resource_response(request, user_resource(_engineer(pk), self.base(request)))

    def put(self, request: Request, pk: str) -> Response:
        engineer = _engineer(pk)
        resource = _parse(User, self.body(request), Context.RESOURCE_REPLACEMENT_REQUEST)
        return self._update(request, engineer, resource)

    def patch(self, request: Request, pk: str) -> Response:
        engineer = _engineer(pk)
        patch = _parse(PatchOp[User], self.body(request), Context.RESOURCE_PATCH_REQUEST)
        resource = user_resource(engineer, self.base(request))
        patch.patch(resource)
        return self._update(request, engineer, resource)

    def _update(self, request: Request, engineer: Engineer, resource) -> Response:
        scim_user_update(
            engineer=engineer, fields=user_fields(resource), actor=Actor.from_request(request)
        )
        engineer = scim_engineers().get(pk=engineer.pk)
        return _resource_response(request, user_resource(engineer, self.base(request)))

    def delete(self, request: Request, pk: str) -> Response:
        scim_user_delete(engineer=_engineer(pk), actor=Actor.from_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Groups ------------------------------------------------------------------------


def group_resource(team: Team, base: str) -> Any:
    members = getattr(team, "scim_members", None)
    if members is None:
        members = list(scim_engineers().filter(team=team))
    resource = ScimGroup.model_validate(
        {
            "schemas": [GROUP_SCHEMA],
            "id": str(team.pk),
            "externalId": team.external_id or None,
            "displayName": team.name,
            "members": [
                {
                    "value": str(e.user_id),
                    "$ref": f"{base}/Users/{e.user_id}",
                    "type": "User",
                }
                for e in members
            ]
            or None,
        }
    )
    resource.meta = Meta(
        resource_type="Group",
        created=team.created_at,
        last_modified=team.created_at,
        location=f"{base}/Groups/{team.pk}",
    )
    return resource


def _member_ids(resource) -> list[int] | None:
    ids = []
    for member in resource.members or []:
        value = str(member.value or "")
        if not value.isdigit() or len(value) > 18:
            raise ScimError(
                400, gettext("Unknown member: %(value)s.") % {"value": value[:100]}, "invalidValue"
            )
        ids.append(int(value))
    return ids


def _team(pk: str) -> Team:
    if not pk.isdigit() or len(pk) > 18:
        raise Http404
    return get_object_or_404(scim_teams(), pk=int(pk))


class GroupsView(ScimView):
    def get(self, request: Request) -> Response:
        base = self.base(request)
        queryset = _filtered(scim_teams(), request, GROUP_FILTERS)
        return _page(request, queryset, lambda t: group_resource(t, base), ScimGroup)

    def post(self, request: Request) -> Response:
        resource = _parse(ScimGroup, self.body(request), Context.RESOURCE_CREATION_REQUEST)
        if not resource.display_name:
            raise ScimError(400, gettext("displayName is required."), "invalidValue")
        team = scim_group_create(
            display_name=resource.display_name,
            external_id=resource.external_id,
            member_ids=_member_ids(resource),
            actor=Actor.from_request(request),
        )
        return _resource_response(
            request, group_resource(_team(str(team.pk)), self.base(request)), 201
        )


class GroupView(ScimView):
    def get(self, request: Request, pk: str) -> Response:
        return _resource_response(request, group_resource(_team(pk), self.base(request)))

    def put(self, request: Request, pk: str) -> Response:
        team = _team(pk)
        resource = _parse(ScimGroup, self.body(request), Context.RESOURCE_REPLACEMENT_REQUEST)
        return self._update(request, team, resource)

    def patch(self, request: Request, pk: str) -> Response:
        team = _team(pk)
        patch = _parse(PatchOp[ScimGroup], self.body(request), Context.RESOURCE_PATCH_REQUEST)
        resource = group_resource(team, self.base(request))
        patch.patch(resource)
        return self._update(request, team, resource)

    def _update(self, request: Request, team: Team, resource) -> Response:
        if not resource.display_name:
            raise ScimError(400, gettext("displayName is required."), "invalidValue")
        scim_group_update(
            team=team,
            display_name=resource.display_name,
            external_id=resource.external_id or "",
            member_ids=_member_ids(resource),
            actor=Actor.from_request(request),
        )
        return _resource_response(request, group_resource(_team(str(team.pk)), self.base(request)))

    def delete(self, request: Request, pk: str) -> Response:
        scim_group_delete(team=_team(pk), actor=Actor.from_request(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- discovery ---------------------------------------------------------------------


def service_provider_config(base: str) -> ServiceProviderConfig:
    return ServiceProviderConfig(
        documentation_uri=None,
        patch=Patch(supported=True),
        bulk=Bulk(supported=False, max_operations=0, max_payload_size=0),
        filter=Filter(supported=True, max_results=MAX_COUNT),
        change_password=ChangePassword(supported=False),
        sort=Sort(supported=False),
        etag=ETag(supported=False),
        authentication_schemes=[
            AuthenticationScheme(
                type=AuthenticationScheme.Type.oauthbearertoken,
                name="Bearer token",
                description="A Preflight API token with the scim scope "
                "(manage.py issue_token NAME --scope scim).",
                primary=True,
            )
        ],
        meta=Meta(resource_type="ServiceProviderConfig", location=f"{base}/ServiceProviderConfig"),
    )


def resource_types(base: str) -> list[ResourceType]:
    user = ResourceType.from_resource(User)
    user.name, user.description = "User", "An engineer"
    group = ResourceType.from_resource(ScimGroup)
    group.name, group.description = "Group", "A team"
    for rt in (user, group):
        rt.meta = Meta(resource_type="ResourceType", location=f"{base}/ResourceTypes/{rt.id}")
    return [user, group]


def schemas(base: str) -> list[Any]:
    user = ScimUser.to_schema()
    user.name, user.description = "User", "An engineer"
    extension = EngineerExtension.to_schema()
    extension.name, extension.description = "Engineer", "Preflight's attributes of an engineer"
    team_slugs = list(Team.objects.order_by("slug").values_list("slug", flat=True)[:200])
    for attribute in extension.attributes or []:
        if attribute.name == "team":
            attribute.canonical_values = team_slugs or None
    group = ScimGroup.to_schema()
    group.name, group.description = "Group", "A team"
    result = [user, extension, group]
    for schema in result:
        schema.meta = Meta(resource_type="Schema", location=f"{base}/Schemas/{schema.id}")
    return result


class ServiceProviderConfigView(ScimView):
    def get(self, request: Request) -> Response:
        config = service_provider_config(self.base(request))
        return Response(config.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))


def _listing(items: list[Any]) -> dict:
    return {
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": len(items),
        "startIndex": 1,
        "itemsPerPage": len(items),
        "Resources": [item.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE) for item in items],
    }


def _one(items: list[Any], pk: str) -> Response:
    for item in items:
        if item.id == pk:
            return Response(item.model_dump(scim_ctx=Context.RESOURCE_QUERY_RESPONSE))
    raise Http404


class ResourceTypesView(ScimView):
    def get(self, request: Request, pk: str | None = None) -> Response:
        items = resource_types(self.base(request))
        if pk is not None:
            return _one(items, pk)
        if request.query_params.get("filter"):
            raise ScimError(403, gettext("Filtering is not supported here."), "invalidFilter")
        return Response(_listing(items))


class SchemasView(ScimView):
    def get(self, request: Request, pk: str | None = None) -> Response:
        items = schemas(self.base(request))
        if pk is not None:
            return _one(items, pk)
        if request.query_params.get("filter"):
            raise ScimError(403, gettext("Filtering is not supported here."), "invalidFilter")
        return Response(_listing(items))


class RootSearchView(ScimView):
    """POST /.search across every resource type: not supported (RFC 7644 §3.4.3
    lets a server answer 501); search /Users/.search or /Groups/.search."""

    def post(self, request: Request) -> Response:
        raise ScimError(501, gettext("Search /Users/.search or /Groups/.search instead."))


class NotFoundView(ScimView):
    """Any other path under /scim/v2/: SCIM's 404, not a page."""

    def http_method_not_allowed(self, request, *args, **kwargs):
        raise Http404

    def get(self, request: Request, rest: str = "") -> Response:
        raise Http404

    post = put = patch = delete = get

"""SCIM 2.0 resources as Preflight serves them, described with scim2-models.

A SCIM User is an engineer; a SCIM Group is a team. The User resource is the core
User schema cut down to the attributes Preflight keeps (RFC 7643 §7: a service
provider publishes the attributes it supports), plus the extension
`urn:preflight:params:scim:schemas:extension:2.0:Engineer` (team, region, tier).

What Preflight uses is stored in its own rows (username, name, e-mail, time zone,
language, active, team, region, tier) and read back from them, so a change made
through the people API shows here. Attributes it does not use (displayName,
name.formatted, an e-mail's type) are kept as the identity provider sent them
(Engineer.scim_attributes), so a GET returns what a PUT sent.
"""

from typing import TYPE_CHECKING, Annotated, Any, ClassVar

from pydantic import Field
from scim2_models import (
    URN,
    CaseExact,
    ComplexAttribute,
    Context,
    Email,
    Extension,
    Mutability,
    Name,
    Reference,
    Required,
    Resource,
    Uniqueness,
)

from training.models import Region, Tier

if TYPE_CHECKING:
    from scim2_models import User  # the name a member's $ref refers to

USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:Group"
ENGINEER_SCHEMA = "urn:preflight:params:scim:schemas:extension:2.0:Engineer"

# Examples double as the schema's canonicalValues (scim2-models), which tells a
# client (and scim2-tester) what the server accepts where it checks values.
_TIME_ZONES = ["Europe/Paris", "Asia/Shanghai", "America/New_York", "UTC"]
_LANGUAGES = ["en", "zh-Hans"]
_LOCALES = ["en-US", "en-GB", "zh-CN"]


class EngineerExtension(Extension):
    """Preflight's own attributes of an engineer."""

    __schema__ = URN(ENGINEER_SCHEMA)

    team: str | None = None
    """The slug of the engineer's team (the Group they are a member of)."""

    region: Annotated[str | None, Field(examples=list(Region.values))] = None
    """The support region counted in release readiness: APAC, EMEA or AMER."""

    tier: Annotated[str | None, Field(examples=list(Tier.values))] = None
    """The support tier: L1, L2 or L3."""


class ScimUser(Resource[EngineerExtension]):
    """The core User schema, as far as Preflight supports it."""

    __schema__ = URN(USER_SCHEMA)

    user_name: Annotated[str | None, Uniqueness.server, Required.true] = None
    name: Name | None = None
    display_name: str | None = None
    emails: list[Email] | None = None
    preferred_language: Annotated[str | None, Field(examples=_LANGUAGES)] = None
    locale: Annotated[str | None, Field(examples=_LOCALES)] = None
    timezone: Annotated[str | None, Field(examples=_TIME_ZONES)] = None
    active: bool | None = None


class ScimMember(ComplexAttribute):
    """A member of a group: always a User (teams do not nest)."""

    value: Annotated[str | None, Mutability.immutable, CaseExact.true] = None
    ref: Annotated[Reference["User"] | None, Mutability.immutable] = Field(
        None, serialization_alias="$ref", validation_alias="$ref"
    )
    type: Annotated[str | None, Mutability.immutable] = Field(None, examples=["User"])
    display: Annotated[str | None, Mutability.read_only] = None


class ScimGroup(Resource[Any]):
    __schema__ = URN(GROUP_SCHEMA)

    display_name: Annotated[str | None, Required.true] = None
    members: list[ScimMember] | None = None

    Members: ClassVar[type[ComplexAttribute]] = ScimMember


def dump(resource: Any, *, attributes: list[str] | None = None, excluded: list[str] | None = None):
    return resource.model_dump(
        scim_ctx=Context.RESOURCE_QUERY_RESPONSE,
        attributes=attributes or None,
        excluded_attributes=excluded or None,
    )

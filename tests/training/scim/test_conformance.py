"""scim2-tester, the SCIM conformance checker, against Preflight's /scim/v2/ served
by a live server: discovery, then create, read, replace, patch and delete of Users
and Groups with the values it makes up from our published schemas."""

import httpx2
import pytest

from tests.factories import TeamFactory
from training.services.tokens import token_issue

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


_REMOVE = "User check_remove_attribute: PATCH modify() did not remove attribute"
# Checks left failing on purpose, each for a reason (the README says so too). A PATCH
# `remove` of these leaves a value, because every engineer has one: a time zone
# (UTC unless told), a language (en), whether they are active (a leaver is made
# inactive, not "unknown"), a region (counted in readiness) and a tier (L1).
KNOWN = {
    f"{_REMOVE} 'preferredLanguage'",
    f"{_REMOVE} 'timezone'",
    f"{_REMOVE} 'active'",
    f"{_REMOVE} 'urn:preflight:params:scim:schemas:extension:2.0:Engineer'",
    f"{_REMOVE} 'urn:preflight:params:scim:schemas:extension:2.0:Engineer:region'",
    f"{_REMOVE} 'urn:preflight:params:scim:schemas:extension:2.0:Engineer:tier'",
}


def test_scim2_tester_finds_nothing_wrong_but_the_known_checks(live_server):
    from scim2_client.engines.httpx2 import SyncSCIMClient
    from scim2_tester import check_server
    from scim2_tester.utils import Status

    TeamFactory(slug="android-support", name="Android support")
    _token, raw = token_issue(name="conformance", scopes=["scim"])
    http = httpx2.Client(
        base_url=f"{live_server.url}/scim/v2",
        headers={"Authorization": f"Bearer {raw}"},
        timeout=20,
    )
    with http:
        results = check_server(SyncSCIMClient(http))
    assert len(results) > 20, [r.title for r in results]
    failed = {
        f"{r.resource_type or ''} {r.title}: {r.reason}"
        for r in results
        if r.status not in (Status.SUCCESS, Status.SKIPPED)
    }
    assert failed <= KNOWN, "\n".join(sorted(failed - KNOWN))

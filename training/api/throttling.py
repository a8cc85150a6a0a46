"""Rate limits of API v1, counted in Django's cache.

Every client has its own budget: a token by its id (two tokens of one pipeline are
two budgets; revoking one does not free the other), a signed-in person by user,
anyone else by address. The counts live in the cache, so with several web processes
the cache must be one they share (CACHE_URL, see settings): a per-process cache
would multiply the limit by the number of processes.

A scope may have its own rate (PREFLIGHT_API_RATE_PEOPLE, …, see settings): calls to
that scope's endpoints then count against their own budget per client, the rest
against the shared `api` one. A bulk call (POST /engineers/bulk/) is one call.

The limiter fails open: if the cache cannot be reached (Redis restarting), the
request is served and a warning logged. A rate limit protects the service; it must
never be the reason a release pipeline's call fails.
"""

import logging

from rest_framework.throttling import SimpleRateThrottle

from training.models import ApiToken

logger = logging.getLogger(__name__)


class ClientRateThrottle(SimpleRateThrottle):
    """`api_<scope>` rate for a scope that has one, else `api` (PREFLIGHT_API_RATE),
    for tokens and people; `api_anon` for the rest."""

    scope = "api"

    def allow_request(self, request, view) -> bool:
        self.scope = self._scope_for(request, view)
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        try:
            return super().allow_request(request, view)
        except Exception:  # any cache backend failure: serve the request, say so
            logger.warning("rate limit not checked: the cache is unavailable", exc_info=True)
            return True

    def _scope_for(self, request, view) -> str:
        user = getattr(request, "user", None)
        known = isinstance(request.auth, ApiToken) or (user is not None and user.is_authenticated)
        if not known:
            return "api_anon"
        own = f"api_{getattr(view, 'scope', None)}"
        return own if own in self.THROTTLE_RATES else "api"

    def get_cache_key(self, request, view) -> str:
        if isinstance(request.auth, ApiToken):
            ident = f"token:{request.auth.pk}"
        elif request.user is not None and request.user.is_authenticated:
            ident = f"user:{request.user.pk}"
        else:
            ident = f"ip:{self.get_ident(request)}"
        scope = "api" if self.scope == "api_anon" else self.scope
        return self.cache_format % {"scope": scope, "ident": ident}

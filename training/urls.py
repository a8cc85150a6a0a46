from csp.constants import SELF, UNSAFE_INLINE
from csp.decorators import csp_update
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from training import oidc
from training.health import healthz

api_v1 = [
    path("", include("courses.api.urls")),
    path("", include("training.api.urls")),
]

# The docs pages run Swagger UI and Redoc from our own static files (the sidecar):
# Swagger UI's start-up script comes from our origin too (the split view), so no
# inline script runs. Both style themselves inline; Redoc searches in a blob: worker.
api_docs = csp_update({"style-src": [UNSAFE_INLINE]})(
    SpectacularSwaggerSplitView.as_view(url_name="api-schema")
)
api_redoc = csp_update({"style-src": [UNSAFE_INLINE], "worker-src": [SELF, "blob:"]})(
    SpectacularRedocView.as_view(url_name="api-schema", template_name="api/redoc.html")
)

urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", api_docs, name="api-docs"),
    path("api/redoc/", api_redoc, name="api-redoc"),
    path("scim/v2/", include("training.api.scim.urls")),
    # OpenID Connect sign-in (training.oidc; 404 while it is off). Sign-out is
    # /accounts/logout/ for everyone: it ends the provider's session too.
    path("oidc/authenticate/", oidc.SignInView.as_view(), name="oidc_authentication_init"),
    path("oidc/callback/", oidc.CallbackView.as_view(), name="oidc_authentication_callback"),
    path("", include("training.views.urls")),
]

# A URL under /api/ that matches no route still answers JSON (core.api.errors).
handler404 = "core.api.errors.not_found"
handler500 = "core.api.errors.server_error"

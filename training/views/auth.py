"""Sign in, sign out and password change: Django's auth views with our templates.

Django's admin ships templates under the same `registration/` names and comes first
in INSTALLED_APPS, so ours live under `training/auth/` and are named explicitly.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpResponseForbidden, HttpResponseRedirect
from django.urls import reverse_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from training.oidc import oidc_enabled, password_login_enabled, provider_logout_url


class LoginView(auth_views.LoginView):
    """Sign-in: the company's identity provider (OpenID Connect) when configured,
    local passwords unless PREFLIGHT_PASSWORD_LOGIN=0 turned them off."""

    template_name = "training/auth/login.html"
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        if not password_login_enabled():
            return HttpResponseForbidden(gettext("Sign in with your company account."))
        return super().post(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["oidc_enabled"] = oidc_enabled()
        context["oidc_provider"] = settings.OIDC_PROVIDER_NAME
        context["password_login"] = password_login_enabled()
        return context


class LogoutView(auth_views.LogoutView):
    """POST only (Django's rule), so a link or a prefetch cannot sign anyone out;
    then back to sign-in (LOGOUT_REDIRECT_URL) — by way of the identity provider's
    sign-out when the person signed in through it and it supports RP-initiated
    logout, so that the next sign-in asks for their credentials again."""

    def post(self, request, *args, **kwargs):
        at_provider = provider_logout_url(request)  # before the session is flushed
        response = super().post(request, *args, **kwargs)
        return HttpResponseRedirect(at_provider) if at_provider else response


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "training/auth/password_change.html"
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("Your password has been changed."))
        return response

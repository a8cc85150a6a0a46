"""Sign in, sign out and password change: Django's auth views with our templates.

Django's admin ships templates under the same `registration/` names and comes first
in INSTALLED_APPS, so ours live under `training/auth/` and are named explicitly.
"""

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _


class LoginView(auth_views.LoginView):
    template_name = "training/auth/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    """POST only (Django's rule), so a link or a prefetch cannot sign anyone out;
    then back to sign-in (LOGOUT_REDIRECT_URL)."""


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "training/auth/password_change.html"
    success_url = reverse_lazy("home")

    def form_valid(self, form):
        response = super().form_valid(form)
        messages.success(self.request, _("Your password has been changed."))
        return response

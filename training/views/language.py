"""The language switcher every page shows.

Django's set_language sets the language cookie (which is what counts before
sign-in, and for people without an engineer profile) and sends the visitor back
where they were, if that is a page of ours. A signed-in engineer's choice is also
saved on their profile, through the people service, so their emails follow it.
"""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from core.actors import Actor
from training.i18n import language_supported, remember_language
from training.models import Engineer
from training.services.people import engineer_update


@require_POST
def language_set(request: HttpRequest) -> HttpResponse:
    code = request.POST.get("language")
    response = set_language(request)
    if language_supported(code) and request.user.is_authenticated:
        engineer = Engineer.objects.filter(user=request.user).first()
        if engineer is not None:
            engineer_update(engineer=engineer, actor=Actor(user=request.user), language=code)
            remember_language(request, code)
    return response

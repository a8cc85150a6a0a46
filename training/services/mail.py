"""How the product writes mail: one plain-text part and one HTML part, in each
recipient's language, with absolute links.

Every mail is two templates: `training/email/<name>.txt` (the plain text, with
autoescape off) and `training/email/<name>.html` (an HTML fragment, autoescaped,
wrapped in `training/email/layout.html`). A mail to readers of several languages
(an escalation to a team's leads) holds one section per language, in both parts.
Links are absolute, built from PREFLIGHT_SITE_URL: a mail is read far from the
request (a beat task has none).
"""

from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation


def site_url(path: str = "/") -> str:
    """The absolute address of `path` on this site (PREFLIGHT_SITE_URL + path)."""
    return settings.PREFLIGHT_SITE_URL.rstrip("/") + "/" + path.lstrip("/")


def site_link(name: str, *args: Any) -> str:
    """The absolute address of the URL named `name` (django.urls.reverse)."""
    return site_url(reverse(name, args=args))


def person_languages(user_ids: Iterable[int]) -> dict[int, str]:
    """Each user's language for mail: their engineer profile's, else their
    preferences' (training.models.PersonPreferences), else the site's default. One
    query."""
    rows = (
        get_user_model()
        .objects.filter(pk__in=list(user_ids))
        .values_list("pk", "engineer__language", "preferences__language")
    )
    return {pk: engineer or preferred or settings.LANGUAGE_CODE for pk, engineer, preferred in rows}


def mail_message(
    *,
    subject: str,
    template: str,
    context: Mapping[str, Any],
    to: list[str],
    languages: list[str],
) -> EmailMultiAlternatives:
    """A multipart message (text, then HTML) made of the `template` mail written in
    each of `languages` (one section each, in that order). `subject` is the
    caller's, already in those languages; the message says its first language in
    a Content-Language header (all of them, comma separated, when several)."""
    context = {
        **context,
        "site_url": site_url(),
        "site_root": settings.PREFLIGHT_SITE_URL.rstrip("/"),
    }
    texts, sections = [], []
    for language in languages:
        with translation.override(language):
            texts.append(render_to_string(f"training/email/{template}.txt", context).strip())
            sections.append(
                {
                    "language": language,
                    "html": render_to_string(f"training/email/{template}.html", context),
                }
            )
    with translation.override(languages[0]):
        html = render_to_string(
            "training/email/layout.html",
            {"sections": sections, "subject": subject, "site_url": site_url()},
        )
    message = EmailMultiAlternatives(
        subject=subject,
        body="\n\n---\n\n".join(texts) + "\n",
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=to,
        headers={"Content-Language": ", ".join(languages)},
    )
    message.attach_alternative(html, "text/html")
    return message


def paragraphs_message(
    *,
    subject: str,
    paragraphs: list[str],
    to: list[str],
    language: str,
    link: str = "",
    link_text: str = "",
    link_label: str = "",
) -> EmailMultiAlternatives:
    """A mail of plain paragraphs (already in `language`) and one link: in the text
    part `link_text` (a sentence holding the address), in the HTML part a button
    saying `link_label` and the address under it."""
    return mail_message(
        subject=subject,
        template="message",
        context={
            "paragraphs": paragraphs,
            "link": link,
            "link_text": link_text,
            "link_label": link_label,
        },
        to=to,
        languages=[language],
    )


def send(message: EmailMultiAlternatives) -> int:
    """Send one message; how many were sent (0 or 1). Raises what the backend
    raises (SMTPException, OSError): the caller decides whether to retry."""
    return message.send()

"""Webhook signing secrets in the Standard Webhooks form: `whsec_` and the base64 of
the key's bytes, so a receiver hands the string to an official library as it is.

Only the format lives here (content side: an SDK's settings); signing and sending
are training's (training.services.webhooks)."""

import base64
import binascii
import secrets

from django.utils.translation import gettext

PREFIX = "whsec_"
# The spec asks for 24 to 64 random bytes.
MIN_KEY_BYTES, MAX_KEY_BYTES = 24, 64


def new_webhook_secret() -> str:
    """A fresh random secret (32 bytes)."""
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def webhook_secret_problem(value: str) -> str | None:
    """Why `value` is not a usable secret, in the reader's language, or None."""
    if not value.startswith(PREFIX):
        return gettext("A webhook secret starts with whsec_ followed by base64.")
    try:
        key = base64.b64decode(value[len(PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        return gettext("A webhook secret starts with whsec_ followed by base64.")
    if not MIN_KEY_BYTES <= len(key) <= MAX_KEY_BYTES:
        return gettext("A webhook secret holds 24 to 64 bytes (32 to 88 base64 characters).")
    return None

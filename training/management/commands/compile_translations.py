"""Compile the translation catalogues without GNU gettext.

`manage.py compilemessages` needs msgfmt, which a fresh machine with only Python
lacks; polib writes the same .mo files. The .mo files are build products (not in
git): `make run` and `make test` run this after installing, and the app compiles
a missing or outdated one when it starts (training.apps).
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from training.i18n import catalogues, compile_catalogue


class Command(BaseCommand):
    help = "Compile locale/*/LC_MESSAGES/*.po to .mo with polib (no GNU gettext needed)."

    def handle(self, *args, **options) -> None:
        found = catalogues()
        if not found:
            raise CommandError(f"No .po files under {', '.join(map(str, settings.LOCALE_PATHS))}.")
        for po_path in found:
            try:
                mo_path = compile_catalogue(po_path)
            except (OSError, ValueError) as exc:
                raise CommandError(f"Cannot compile {po_path}: {exc}") from exc
            self.stdout.write(f"Compiled {mo_path}")

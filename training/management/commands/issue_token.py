from django.core.management.base import BaseCommand, CommandError

from training.models import Scope
from training.services.tokens import token_issue


class Command(BaseCommand):
    help = "Issue an API token. The token is printed once, alone on the last line."

    def add_arguments(self, parser):
        parser.add_argument("name", help="Who uses the token, e.g. release-pipeline.")
        parser.add_argument(
            "--scope",
            action="append",
            dest="scopes",
            required=True,
            choices=Scope.values,
            help="Repeat for several scopes.",
        )

    def handle(self, *args, name, scopes, **options):
        if not name.strip():
            raise CommandError("The token needs a name.")
        token, raw = token_issue(name=name.strip(), scopes=scopes)
        self.stdout.write(
            f"Issued token '{token.name}' with scopes {', '.join(token.scopes)}. "
            "It is shown once; only its hash is stored."
        )
        self.stdout.write(raw)

from pathlib import Path

import yaml
from django.core.management.base import BaseCommand, CommandError

from courses.documents import course_to_document
from courses.models import Course


class _Dumper(yaml.SafeDumper):
    """Multi-line text (Markdown) as literal blocks, so exports read like the source."""


def _str(dumper: yaml.SafeDumper, value: str):
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def dump_document(document: dict) -> str:
    return yaml.dump(document, Dumper=_Dumper, sort_keys=False, allow_unicode=True)


class Command(BaseCommand):
    help = "Write a course as a YAML document that import_course reads back unchanged."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("-o", "--output", type=Path, help="File to write; else stdout.")

    def handle(self, *args, slug: str, output: Path | None, **options):
        course = Course.objects.select_related("release__sdk").filter(slug=slug).first()
        if course is None:
            raise CommandError(f"No course '{slug}'.")
        text = dump_document(course_to_document(course))
        if output is None:
            self.stdout.write(text, ending="")
            return
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"Cannot write {output}: {exc}") from exc
        self.stdout.write(f"Wrote course '{slug}' to {output}.")

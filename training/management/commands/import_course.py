import json
from pathlib import Path
from typing import Any

import yaml
from django.core.management.base import BaseCommand, CommandError

from core.actors import SYSTEM
from core.errors import Conflict, InvalidInput
from courses.documents import error_lines
from training.services.courses import course_save


def load_document(file: Path) -> Any:
    """A course document from a .json, .yaml or .yml file (else JSON, then YAML)."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"Cannot read {file}: {exc}") from exc
    suffix = file.suffix.lower()
    try:
        if suffix == ".json":
            return json.loads(text)
        if suffix in (".yaml", ".yml"):
            return yaml.safe_load(text)
        try:
            return json.loads(text)
        except json.JSONDecodeError:
            return yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise CommandError(f"{file} is not valid {suffix[1:] or 'JSON or YAML'}: {exc}") from exc


class Command(BaseCommand):
    help = "Create or replace a course from a document (YAML or JSON), as PUT /courses/{slug}/."

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="The course document, .yaml/.yml or .json.")
        parser.add_argument(
            "--slug",
            help="The course's slug; else the document's `slug`, else the file name.",
        )

    def handle(self, *args, file: Path, slug: str | None, **options):
        document = load_document(file)
        if isinstance(document, dict):
            # --slug wins, so an exported course can be imported as a copy.
            slug = slug or document.get("slug") or file.stem
            document = {**document, "slug": slug}
        else:
            slug = slug or file.stem
        try:
            course, created = course_save(slug=str(slug), document=document, actor=SYSTEM)
        except InvalidInput as exc:
            lines = "\n".join("  " + line for line in error_lines(exc.detail))
            raise CommandError(f"{file} is not a valid course document:\n{lines}") from exc
        except Conflict as exc:
            raise CommandError(str(exc.detail)) from exc
        verb = "Created" if created else "Replaced"
        self.stdout.write(f"{verb} course '{course.slug}' from {file}.")

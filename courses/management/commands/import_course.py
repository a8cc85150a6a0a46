import json
from pathlib import Path
from typing import Any

import yaml
from django.core.management.base import BaseCommand, CommandError

from courses.services.courses import course_put
from training.actors import SYSTEM
from training.errors import Conflict, InvalidInput


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


def error_lines(detail: Any, path: str = "") -> list[str]:
    """DRF-shaped errors as `quiz.questions[1].choices: message` lines."""
    if isinstance(detail, dict):
        lines = []
        for key, value in detail.items():
            lines += error_lines(value, f"{path}.{key}" if path else str(key))
        return lines
    if isinstance(detail, list):
        if all(isinstance(item, str) for item in detail):
            return [f"{path or 'document'}: {item}" for item in detail]
        lines = []
        for index, item in enumerate(detail):
            lines += error_lines(item, f"{path}[{index}]")
        return lines
    return [f"{path or 'document'}: {detail}"]


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
            course, created = course_put(slug=str(slug), document=document, actor=SYSTEM)
        except InvalidInput as exc:
            lines = "\n".join("  " + line for line in error_lines(exc.detail))
            raise CommandError(f"{file} is not a valid course document:\n{lines}") from exc
        except Conflict as exc:
            raise CommandError(str(exc.detail)) from exc
        verb = "Created" if created else "Replaced"
        self.stdout.write(f"{verb} course '{course.slug}' from {file}.")

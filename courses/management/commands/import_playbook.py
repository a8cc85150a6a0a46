import json
from pathlib import Path
from typing import Any

import yaml
from django.core.management.base import BaseCommand, CommandError

from core.actors import SYSTEM
from core.errors import InvalidInput
from courses.documents import error_lines
from courses.services.playbooks import playbook_put


def load_playbook(file: Path) -> Any:
    """A playbook document from a file: Markdown with YAML front matter (.md: the
    front matter holds title, scenarios, sdks, …; the rest is the body), or a whole
    document in .json or .yaml/.yml."""
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"Cannot read {file}: {exc}") from exc
    suffix = file.suffix.lower()
    try:
        if suffix in (".md", ".markdown"):
            lines = text.splitlines(keepends=True)
            if not lines or lines[0].strip() != "---":
                raise CommandError(f"{file} has no front matter (a first line '---').")
            end = next((i for i in range(1, len(lines)) if lines[i].strip() == "---"), None)
            if end is None:
                raise CommandError(f"{file}'s front matter has no closing '---'.")
            meta = yaml.safe_load("".join(lines[1:end])) or {}
            if not isinstance(meta, dict):
                raise CommandError(f"{file}'s front matter is not a mapping.")
            return {**meta, "body": "".join(lines[end + 1 :]).lstrip("\n")}
        if suffix == ".json":
            return json.loads(text)
        return yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise CommandError(f"{file} is not valid: {exc}") from exc


class Command(BaseCommand):
    help = (
        "Create or replace a playbook from Markdown with YAML front matter (or a YAML or "
        "JSON document), as PUT /playbooks/{slug}/."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="The playbook, .md, .yaml/.yml or .json.")
        parser.add_argument(
            "--slug", help="The playbook's slug; else the document's `slug`, else the file name."
        )

    def handle(self, *args, file: Path, slug: str | None, **options):
        document = load_playbook(file)
        if isinstance(document, dict):
            slug = slug or document.get("slug") or file.stem
            document = {**document, "slug": slug}
        else:
            slug = slug or file.stem
        try:
            playbook, created = playbook_put(slug=str(slug), document=document, actor=SYSTEM)
        except InvalidInput as exc:
            lines = "\n".join("  " + line for line in error_lines(exc.detail))
            raise CommandError(f"{file} is not a valid playbook document:\n{lines}") from exc
        verb = "Created" if created else "Replaced"
        self.stdout.write(f"{verb} playbook '{playbook.slug}' from {file}.")

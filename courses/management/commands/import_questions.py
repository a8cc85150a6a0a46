from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.actors import SYSTEM
from core.errors import Conflict, InvalidInput, NotFound
from courses.documents import error_lines
from courses.services.questions import FileFormat, questions_import


class Command(BaseCommand):
    help = (
        "Add the questions of a Moodle file (GIFT, or Moodle XML for .xml) to a course's "
        "pools, as POST /api/v1/courses/{slug}/questions/import/. Kinds Preflight lacks "
        "are listed and skipped; a file with an error imports nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path, help="A GIFT (.gift, .txt) or Moodle XML file.")
        parser.add_argument("--course", required=True, help="The course's slug.")
        parser.add_argument(
            "--pool", help="Pool to import into; default the file's category, else 'imported'."
        )
        parser.add_argument(
            "--format",
            choices=["gift", "xml"],
            help="The file's format; default xml for a .xml file, else gift.",
        )

    def handle(self, *args, file: Path, course: str, pool: str | None, **options):
        file_format: FileFormat = options["format"] or (
            "xml" if file.suffix.lower() == ".xml" else "gift"
        )
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc}") from exc
        try:
            result = questions_import(
                slug=course, data=data, file_format=file_format, pool=pool, actor=SYSTEM
            )
        except InvalidInput as exc:
            detail = exc.detail if isinstance(exc.detail, dict) else {"detail": exc.detail}
            lines = [str(detail.get("detail", ""))]
            for item in detail.get("questions", []):
                for line in error_lines(item["errors"]):
                    lines.append(f"  {item['where']} ({item['name']}): {line}")
            for item in detail.get("skipped", []):
                lines.append(f"  skipped {item['name']}: {item['reason']}")
            if set(detail) - {"detail", "questions", "skipped"}:
                lines += ["  " + line for line in error_lines(detail) if "detail" not in line]
            raise CommandError(f"{file}: " + "\n".join(lines)) from exc
        except (Conflict, NotFound) as exc:
            raise CommandError(str(exc.detail)) from exc
        pools = ", ".join(f"'{name}'" for name in result["pools"])
        self.stdout.write(
            f"Imported {result['imported']} question(s) into {pools} of course '{course}'"
            + (f" ({result['replaced']} replaced by id)." if result["replaced"] else ".")
        )
        for item in result["skipped"]:
            self.stdout.write(f"Skipped {item['name']}: {item['reason']}")

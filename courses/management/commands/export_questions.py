from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.errors import NotFound
from courses.services.questions import questions_export_gift


class Command(BaseCommand):
    help = (
        "Write a course's questions as GIFT (Moodle reads it; import_questions reads it "
        "back), as GET /api/v1/courses/{slug}/questions/export/."
    )

    def add_arguments(self, parser):
        parser.add_argument("--course", required=True, help="The course's slug.")
        parser.add_argument("--pool", help="Only this pool's questions.")
        parser.add_argument("-o", "--output", type=Path, help="File to write; else stdout.")

    def handle(self, *args, course: str, pool: str | None, output: Path | None, **options):
        try:
            text = questions_export_gift(slug=course, pool=pool)
        except NotFound as exc:
            raise CommandError(str(exc.detail)) from exc
        if output is None:
            self.stdout.write(text, ending="")
            return
        try:
            output.write_text(text, encoding="utf-8")
        except OSError as exc:
            raise CommandError(f"Cannot write {output}: {exc}") from exc
        self.stdout.write(f"Wrote the questions of course '{course}' to {output}.")

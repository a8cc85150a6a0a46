from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from core.errors import Conflict, InvalidInput
from courses.changelog import ChangelogError, parse_changelog
from courses.models import Release, Sdk
from courses.services.releases import (
    features_from_changelog,
    features_merge,
    release_draft_features_put,
    release_stored_features,
)


class Command(BaseCommand):
    help = (
        "Read an SDK's whole CHANGELOG.md: each version's entries become features of "
        "that version's draft release (kept features first; their keys win). Versions "
        "with no release recorded, or already published, are listed and left alone."
    )

    def add_arguments(self, parser):
        parser.add_argument("sdk", help="SDK slug, e.g. rtm-android.")
        parser.add_argument("file", type=Path, help="The changelog (Markdown, UTF-8).")
        parser.add_argument("--only", metavar="VERSION", help="Only this version's section.")

    def handle(self, *args, sdk: str, file: Path, only: str | None, **options):
        found = Sdk.objects.filter(slug=sdk).first()
        if found is None:
            raise CommandError(f"No SDK '{sdk}'.")
        try:
            text = file.read_text(encoding="utf-8")
            versions = parse_changelog(text)
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"Cannot read {file}: {exc}") from exc
        except ChangelogError as exc:
            raise CommandError(f"{file}: {exc}") from exc
        if only:
            versions = [version for version in versions if version.version == only]
            if not versions:
                raise CommandError(f"{file} has no section for version {only}.")
        releases = {
            release.version: release
            for release in Release.objects.filter(
                sdk=found, version__in=[version.version for version in versions]
            )
        }
        for version in versions:
            release = releases.get(version.version)
            if release is None:
                self.stdout.write(f"{version.version}: no release recorded; skipped.")
                continue
            if release.status != Release.Status.DRAFT:
                self.stdout.write(
                    f"{version.version}: {release.status}; features kept as they are."
                )
                continue
            try:
                features = features_merge(
                    release_stored_features(release),
                    features_from_changelog(found, version.version, text),
                )
                release_draft_features_put(release=release, features=features)
            except (InvalidInput, Conflict) as exc:
                raise CommandError(f"{version.version}: {exc}") from exc
            self.stdout.write(
                f"{version.version}: {len(version.entries)} entries; "
                f"the draft has {len(features)} features."
            )

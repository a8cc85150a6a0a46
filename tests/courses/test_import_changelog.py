"""manage.py import_changelog SDK FILE: a whole CHANGELOG.md into draft releases."""

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from courses.models import Feature, Release
from tests.factories import FeatureFactory, ReleaseFactory

pytestmark = pytest.mark.django_db
STREAM = Path(__file__).parent / "changelogs" / "stream_chat_android.md"


def run(*args) -> str:
    out = StringIO()
    call_command("import_changelog", *args, stdout=out)
    return out.getvalue()


def test_each_draft_release_gets_its_version_s_entries(sdk):
    draft = ReleaseFactory(sdk=sdk, version="6.7.0", status=Release.Status.DRAFT)
    kept = FeatureFactory(release=draft, key="chatclient-querychannels", title="Kept by hand")
    ReleaseFactory(sdk=sdk, version="6.6.2", status=Release.Status.PUBLISHED)

    out = run("rtm-android", str(STREAM))

    assert "6.7.0: 6 entries; the draft has 7 features." in out
    assert "6.6.2: published; features kept as they are." in out
    features = list(draft.features.order_by("position"))
    assert features[0].pk == kept.pk and features[0].title == "Kept by hand"
    removed = Feature.objects.get(release=draft, kind="removed")
    assert removed.breaking and removed.symbols == ["ChatClient.sendMessage", "Channel.sendMessage"]
    assert not Feature.objects.get(release=draft, kind="fixed").train
    # Again: nothing new.
    assert "the draft has 7 features" in run("rtm-android", str(STREAM), "--only", "6.7.0")


def test_versions_without_a_release_are_listed_and_left(sdk):
    assert run("rtm-android", str(STREAM)) == (
        "6.7.0: no release recorded; skipped.\n6.6.2: no release recorded; skipped.\n"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope", str(STREAM)], "No SDK 'nope'."),
        (["rtm-android", "/nonexistent/CHANGELOG.md"], "Cannot read"),
        (["rtm-android", str(STREAM), "--only", "1.0.0"], "no section for version 1.0.0"),
    ],
)
def test_what_cannot_be_imported(sdk, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)

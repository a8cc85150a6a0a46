import random

import pytest

from courses.models import Release
from courses.versions import InvalidVersion, Version
from tests.factories import ReleaseFactory, SdkFactory


def test_versions_sort_by_semver_precedence():
    ordered = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "2.4.0-rc.1",
        "2.4.0",
        "2.9.0",
        "2.10.0",
    ]
    shuffled = random.Random(7).sample(ordered, len(ordered))
    assert sorted(shuffled, key=lambda v: Version.parse(v).sort_key) == ordered


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2.4.0", Version(2, 4, 0)),
        ("v2.4.0", Version(2, 4, 0)),
        (" 2.4.0 ", Version(2, 4, 0)),
        ("2.4.0-rc.1", Version(2, 4, 0, prerelease=("rc", "1"))),
        ("1.0.0-alpha-1.x", Version(1, 0, 0, prerelease=("alpha-1", "x"))),
        ("2.4.0+build.7", Version(2, 4, 0, build="build.7")),
        ("v10.20.30-beta.2+sha.abc", Version(10, 20, 30, ("beta", "2"), "sha.abc")),
    ],
)
def test_parse_reads_semantic_versions_and_drops_a_leading_v(text, expected):
    assert Version.parse(text) == expected


@pytest.mark.parametrize(
    ("text", "normalised"),
    [("v2.4.0", "2.4.0"), ("2.4.0-rc.1", "2.4.0-rc.1"), ("v1.0.0+b.1", "1.0.0+b.1")],
)
def test_str_gives_the_version_without_the_leading_v(text, normalised):
    assert str(Version.parse(text)) == normalised


@pytest.mark.parametrize(
    "text",
    [
        "",
        "2.4",
        "2.4.0.1",
        "02.4.0",
        "2.04.0",
        "2.4.0-",
        "2.4.0-rc..1",
        "2.4.0-01",
        "2.4.0+",
        "V2.4.0",
        "vv2.4.0",
        "2.4.x",
        "latest",
        "2.4.0 rc1",
        "1" * 70,
        "99999999999.0.0",
    ],
)
def test_parse_refuses_anything_that_is_not_a_semantic_version(text):
    with pytest.raises(InvalidVersion):
        Version.parse(text)


@pytest.mark.parametrize(
    "text",
    [
        "1\u0660.0.0",  # an Arabic-Indic zero: int() reads "1\u0660" as 10
        "\u0661.0.0",
        "1.\u0968.0",  # Devanagari two
        "1.0.\uff13",  # full-width three
        "1.0.0-rc.\u0661",
        "1.0.0-\u0661a",
        "1.0.0+build.\u0661",
    ],
)
def test_digits_of_other_scripts_are_not_version_numbers(text):
    with pytest.raises(InvalidVersion):
        Version.parse(text)


def test_parse_refuses_what_is_not_a_string():
    with pytest.raises(InvalidVersion):
        Version.parse(240)  # type: ignore[arg-type]


def test_build_metadata_does_not_change_precedence():
    assert Version.parse("2.4.0+a").sort_key == Version.parse("2.4.0+b").sort_key


@pytest.mark.django_db
def test_the_database_orders_releases_by_semver_precedence():
    sdk = SdkFactory()
    ordered = ["0.9.0", "1.0.0-alpha", "1.0.0-alpha.2", "1.0.0-alpha.10", "1.0.0-beta"]
    ordered += ["1.0.0", "1.2.0", "1.10.0", "2.0.0-rc.1", "2.0.0", "10.0.0"]
    for text in random.Random(3).sample(ordered, len(ordered)):
        ReleaseFactory(sdk=sdk, version=text)
    stored = list(
        Release.objects.filter(sdk=sdk).order_by("sort_key").values_list("version", flat=True)
    )
    assert stored == ordered
    newest_first = list(Release.objects.filter(sdk=sdk).values_list("version", flat=True))
    assert newest_first == ordered[::-1]

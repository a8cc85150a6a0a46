"""A lead's skill matrix, CSV export and expert finder, in a real browser."""

import csv
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import EngineerFactory, SkillFactory, SkillRecordFactory, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct horse battery staple"
SKILLS = [
    ("push", "Push notifications"),
    ("reconnection", "Reconnection"),
    ("message-ordering", "Message ordering"),
    ("offline-messages", "Offline messages"),
    ("presence", "Presence"),
    ("token-auth", "Token authentication"),
    ("rate-limits", "Rate limits"),
    ("channels", "Channels"),
    ("attachments", "Attachments"),
    ("read-receipts", "Read receipts"),
    ("typing-indicators", "Typing indicators"),
    ("moderation", "Moderation"),
    ("webhooks", "Webhooks"),
    ("sdk-logging", "SDK logging"),
    ("network-diagnosis", "Network diagnosis"),
    ("media-codecs", "Media codecs"),
    ("echo-cancellation", "Echo cancellation"),
    ("screen-sharing", "Screen sharing"),
]


@pytest.fixture
def skills(db):
    return {slug: SkillFactory(slug=slug, name=name) for slug, name in SKILLS}


@pytest.fixture
def crew(team, engineer, outsider, skills, settings):
    """Alice (APAC) plus Bob (EMEA), Carol (AMER) and an inactive engineer on the
    lead's team; Oscar is on another team. Levels spread over every skill."""
    settings.PREFLIGHT_SKILL_VALID_DAYS = 365
    bob = EngineerFactory(
        user=UserFactory(username="bob", first_name="Bob", last_name="Martin"),
        team=team, region="EMEA", tier="L2", timezone="Europe/London",
    )  # fmt: skip
    carol = EngineerFactory(
        user=UserFactory(username="carol", first_name="Carol", last_name="Diaz"),
        team=team, region="AMER", tier="L3", timezone="America/New_York",
    )  # fmt: skip
    EngineerFactory(user=UserFactory(username="gone"), team=team, active=False)
    old = timezone.now() - timedelta(days=400)
    for index, skill in enumerate(skills.values()):
        SkillRecordFactory(engineer=engineer, skill=skill, level=index % 4 + 1)
        if index % 3:
            SkillRecordFactory(
                engineer=bob,
                skill=skill,
                level=(index + 1) % 4 + 1,
                verified_at=old if index % 5 == 0 else timezone.now(),
            )
        if index % 2 == 0:
            SkillRecordFactory(engineer=carol, skill=skill, level=4 - index % 3)
    # push: Carol is Expert (4), Alice Proficient (3), Bob's Expert is stale, and
    # Oscar is on another team.
    engineer.skill_records.filter(skill=skills["push"]).update(level=3)
    SkillRecordFactory(engineer=bob, skill=skills["push"], level=4, verified_at=old)
    SkillRecordFactory(engineer=outsider, skill=skills["push"], level=4)
    return {"alice": engineer, "bob": bob, "carol": carol}


def sign_in(page, live_server, username: str, next_path: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/?next={next_path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(re.escape(live_server.url + next_path)))


def test_a_lead_reads_filters_and_exports_the_matrix_and_finds_experts(
    page, live_server, lead, crew, skills, screenshot
):
    sign_in(page, live_server, "lena", "/team/matrix/")

    # The heat map: one row per active engineer of my team, a column per skill.
    table = page.get_by_role("table", name=re.compile("Skill levels by engineer"))
    table.wait_for()
    rows = table.locator("tbody tr")
    assert rows.count() == 3
    assert [rows.nth(i).locator("th .person-name").inner_text() for i in range(3)] == [
        "Alice Chen",
        "Bob Martin",
        "Carol Diaz",
    ]
    assert table.locator("thead th.matrix-skill").count() == len(SKILLS)
    assert "Oscar" not in table.inner_text()
    assert table.locator("td.stale").count() > 0
    screenshot(page, "matrix-heatmap", full_page=False)

    # In a short window the matrix scrolls in its box, and the header row and
    # the engineer column stay in view.
    page.set_viewport_size({"width": 900, "height": 420})
    box = page.locator(".matrix-scroll")
    box.scroll_into_view_if_needed()
    box.evaluate("box => box.scrollTo(box.scrollWidth, box.scrollHeight)")
    assert box.evaluate("box => box.scrollTop > 0 && box.scrollLeft > 0")
    box_area = box.bounding_box()
    corner = page.locator(".matrix-corner").bounding_box()
    assert abs(corner["y"] - box_area["y"]) < 3 and abs(corner["x"] - box_area["x"]) < 3
    assert page.locator("tbody .matrix-engineer").first.bounding_box()["x"] - box_area["x"] < 3
    screenshot(page, "matrix-scrolled", full_page=False)
    box.evaluate("box => box.scrollTo(0, 0)")
    page.set_viewport_size({"width": 1280, "height": 900})

    # Filter by region.
    page.get_by_label("Region").select_option("EMEA")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r"region=EMEA"))
    assert page.locator("table.matrix tbody tr").count() == 1
    assert "Bob Martin" in page.locator("table.matrix tbody").inner_text()
    page.get_by_role("link", name="Clear").click()
    page.wait_for_url(live_server.url + "/team/matrix/")

    # Export: the download is a CSV with one row per engineer.
    with page.expect_download() as info:
        page.get_by_role("link", name="Export CSV").click()
    download = info.value
    assert re.fullmatch(r"skill-matrix-teams-\d{4}-\d{2}-\d{2}\.csv", download.suggested_filename)
    with open(download.path(), encoding="utf-8", newline="") as file:
        exported = list(csv.DictReader(file))
    assert [row["username"] for row in exported] == ["alice", "bob", "carol"]
    assert list(exported[0])[:5] == ["username", "name", "team", "region", "tier"]
    assert len(exported[0]) == 5 + len(SKILLS)
    assert exported[0]["push"] == "3"
    assert exported[1]["push"] == ""  # Bob's push record is stale
    assert exported[2]["push"] == "4"

    # Expert finder, from the skill's column header.
    page.get_by_role("link", name="Push notifications").click()
    page.wait_for_url(re.compile(r"/team/experts/\?skill=push"))
    experts = page.get_by_role("table", name=re.compile("Experts"))
    experts.wait_for()
    names = experts.locator("tbody th .person-name").all_inner_texts()
    assert names == ["Carol Diaz", "Alice Chen"]  # Expert first; Bob stale, Oscar not ours
    for status in experts.locator("tbody td:last-child").all_inner_texts():
        assert status.startswith(("At work", "Off"))
    assert "America/New_York" in experts.inner_text()
    screenshot(page, "matrix-experts")

    page.get_by_label("Region").select_option("APAC")
    page.get_by_role("button", name="Find experts").click()
    page.wait_for_url(re.compile(r"region=APAC"))
    assert experts.locator("tbody th .person-name").all_inner_texts() == ["Alice Chen"]

    # On a phone the matrix scrolls in its box; the page itself does not.
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/team/matrix/")
    screenshot(page, "matrix-mobile", full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390


def test_a_lead_of_one_team_gets_404_for_another_teams_export(
    page, live_server, lead, crew, screenshot
):
    sign_in(page, live_server, "lena", "/team/matrix/")
    response = page.goto(live_server.url + "/team/matrix.csv?team=emea-web")
    assert response.status == 404
    response = page.goto(live_server.url + "/team/matrix/?team=emea-web")
    assert response.status == 404
    # Their own team's export is there.
    with page.expect_download() as info:
        page.evaluate(
            "url => { const a = document.createElement('a'); a.href = url;"
            " a.download = ''; document.body.append(a); a.click(); }",
            live_server.url + "/team/matrix.csv?team=apac-rtm",
        )
    assert info.value.suggested_filename.startswith("skill-matrix-apac-rtm-")


def test_an_engineer_gets_404_for_the_lead_pages(page, live_server, crew):
    sign_in(page, live_server, "alice", "/")
    for path in ("/team/matrix/", "/team/matrix.csv", "/team/experts/?skill=push"):
        assert page.goto(live_server.url + path).status == 404

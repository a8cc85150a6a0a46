"""Changelogs of real messaging/RTC SDKs, in three styles, to candidate features.

The fixtures (tests/courses/changelogs/) are written after the public changelogs
of Stream Chat Android (Keep a Changelog kinds with emoji, per-module sections,
breaking markers), LiveKit's client-sdk-js (Changesets: Minor/Patch/Major Changes,
PR links, commit hashes, "Thanks @…!") and Agora RTM's bilingual release notes
(Chinese and English headings, a compatibility-changes section, bold headings)."""

from pathlib import Path

import pytest

from courses.changelog import (
    ChangelogError,
    _version_section,
    kind_of_entry,
    kind_of_heading,
    parse_changelog,
    release_entries,
    symbols_in,
)

FIXTURES = Path(__file__).parent / "changelogs"


def read(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def summary(entries):
    return [(e["kind"], e["breaking"], e["module"], e["symbols"]) for e in entries]


def test_keep_a_changelog_with_modules_emoji_headings_and_breaking_markers():
    versions = parse_changelog(read("stream_chat_android.md"))

    # The UNRELEASED section is nobody's release.
    assert [(v.version, len(v.entries)) for v in versions] == [("6.7.0", 6), ("6.6.2", 1)]
    client, offline = "stream-chat-android-client", "stream-chat-android-offline"
    assert summary(versions[0].entries) == [
        ("fixed", False, client, ["ChatClient.queryChannels"]),
        ("changed", False, client, ["ChatSocket"]),
        ("added", False, client, ["ChatClient.markThreadRead", "ThreadsRepository"]),
        ("removed", True, client, ["ChatClient.sendMessage", "Channel.sendMessage"]),
        ("changed", False, offline, ["OfflinePlugin.config", "StatePluginConfig"]),
        ("deprecated", False, offline, ["ChannelState.typing", "ChannelState.typingUsers"]),
    ]
    removed = versions[0].entries[3]
    assert removed["title"].startswith("Remove the deprecated ChatClient.sendMessage(")
    assert "BREAKING" not in removed["title"]
    # A nested bullet stays in the entry's summary, not a feature of its own.
    assert "ThreadsRepository" in versions[0].entries[2]["summary"]


def test_changesets_take_their_kind_from_the_verb_and_major_changes_break():
    versions = parse_changelog(read("livekit_client_sdk_js.md"))

    assert [v.version for v in versions] == ["2.6.0", "2.5.9"]
    assert summary(versions[0].entries) == [
        ("added", False, "", []),
        ("removed", False, "", ["Room.getActiveAudioOutputDevice", "room.audioOutput"]),
        ("fixed", False, "", ["RemoteTrackPublication.setSubscribed"]),
        ("changed", False, "", []),
    ]
    # PR links, commit hashes and credits are not the entry's words.
    assert [e["title"] for e in versions[0].entries[:2]] == [
        "Add support for detecting video element visibility in picture-in-picture",
        "Remove Room.getActiveAudioOutputDevice(); read room.audioOutput instead",
    ]
    assert summary(versions[1].entries) == [
        ("changed", True, "", ["adaptiveStream"]),  # `true` is a value, not a symbol
        ("changed", False, "", []),
    ]


def test_bilingual_release_notes():
    versions = parse_changelog(read("agora_rtm_bilingual.md"))

    assert [(v.version, v.date) for v in versions] == [
        ("2.3.0", "2026-11-02"),
        ("2.2.1", "2026-09-15"),
    ]
    assert summary(versions[0].entries) == [
        ("added", False, "", ["RtmClient.subscribeTopic"]),
        ("added", False, "", ["PublishOptions", "customType"]),
        ("changed", False, "", ["login"]),
        ("fixed", False, "", []),
        ("removed", True, "", ["RtmChannel.sendMessage", "RtmClient.publish"]),
        ("changed", True, "", ["RtmConfig.presenceTimeout"]),
    ]
    # A bold line is a heading too.
    assert summary(versions[1].entries) == [("fixed", False, "", ["logout"])]


def test_keys_are_slugs_unique_in_a_release():
    entries = release_entries("- Fix `a()`\n- Fix `a()`\n- 修复问题\n- 修复问题\n")

    assert [e["key"] for e in entries] == ["fix-a", "fix-a-2", "entry", "entry-2"]
    assert all(len(e["key"]) <= 60 for e in release_entries("- " + "word " * 100))


def test_one_release_s_section_or_all_notes_without_versions():
    text = read("livekit_client_sdk_js.md")

    assert len(release_entries(text, "2.5.9")) == 2
    assert len(release_entries(text, "2.6.0")) == 4
    assert len(release_entries(read("agora_rtm_bilingual.md"), "2.3.0")) == 6
    assert len(release_entries(read("agora_rtm_bilingual.md"), "2.2.1")) == 1  # bold heading
    assert len(release_entries(read("stream_chat_android.md"), "6.7.0")) == 6
    # Those were read from their section alone, not the whole file.
    section = _version_section(read("agora_rtm_bilingual.md"), "2.3.0")
    assert section is not None
    assert section.startswith("## v2.3.0") and "2.2.1" not in section
    assert len(release_entries("### Added\n- Add `x()`\n### Fixed\n- Fix y\n")) == 2
    with pytest.raises(ChangelogError, match=r"no section for version 9\.9\.9"):
        release_entries(text, "9.9.9")


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("Added", (True, "added", False)),
        ("🐞 Fixed", (True, "fixed", False)),
        ("新增特性 / New Features", (True, "added", False)),
        ("兼容性变更", (True, None, True)),
        ("Major Changes", (True, None, True)),
        ("Patch Changes", (True, None, False)),
        ("stream-chat-android-client", (False, None, False)),
    ],
)
def test_headings(heading, expected):
    assert kind_of_heading(heading) == expected


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        ("Added retries", "added"),
        ("Supports HTTP/3", "added"),
        ("Drop Android 5 support", "removed"),
        ("Fixes a crash", "fixed"),
        ("Deprecate `foo`", "deprecated"),
        ("Upgrade protobuf", "changed"),
        ("新增消息撤回", "added"),
        ("移除旧接口", "removed"),
        ("修复崩溃", "fixed"),
        ("升级依赖", "changed"),
        ("Addressing latency", "changed"),  # not "add"
    ],
)
def test_leading_verbs(title, kind):
    assert kind_of_entry(title) == kind


def test_symbols():
    assert symbols_in("`sendMessage()` and `RtmClient.login(token)`, `npm i x`, `{}`") == [
        "sendMessage",
        "RtmClient.login",
    ]


@pytest.mark.parametrize("bad", ["x\x00y", 42, None])
def test_what_is_not_a_changelog(bad):
    with pytest.raises(ChangelogError):
        parse_changelog(bad)


def test_deep_nesting_does_not_recurse_away():
    text = "## 1.0.0\n### Added\n" + "".join("  " * depth + "- add\n" for depth in range(2000))

    assert [e["kind"] for e in release_entries(text, "1.0.0")] == ["added"]

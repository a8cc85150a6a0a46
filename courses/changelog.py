"""SDK changelogs to candidate features.

A changelog is Markdown, parsed here with markdown-it-py (the parser the lessons
use): its headings and top-level list items are the structure, whatever their
words. The keepachangelog package reads only the Keep a Changelog form (it drops
per-module headings, nested bullets and any heading it does not know, such as
Changesets' `### Minor Changes` or Chinese release notes), so the forms real SDK
changelogs use are mapped here:

- version headings: `## [2.4.0] - 2026-11-02`, `## 2.4.0`, `## v2.4.0 (2026-11-02)`,
  `# 2.4.0 / 2026-11-02`;
- kind headings: Keep a Changelog's six (Added, Changed, Deprecated, Removed,
  Fixed, Security), their common synonyms (Features, Bug Fixes, Improvements…)
  and Chinese ones (新增特性, 改进, 问题修复, 兼容性变更…), in either language
  when a heading carries both (`### 新增特性 / New Features`);
- breaking headings (`Breaking Changes`, `兼容性变更`, Changesets' `Major Changes`)
  and breaking markers in an entry (`BREAKING`, `⚠️`, `🚨`, `不兼容`);
- any other heading under a version is a module (`#### Chat`, `### Android`): it
  names the entry's module and keeps the kind of the heading above it;
- an entry under no kind heading, or under one that does not say (Changesets'
  Minor/Patch Changes), takes its kind from its leading verb (Add → added,
  Remove → removed, Fix → fixed, Upgrade/Improve → changed, 新增 → added, …).

Every entry becomes a feature: a key (a slug of its words, unique in the
release), a title, the entry's Markdown as its summary, its kind, whether it is
breaking, and the API symbols it names in backticks (`sendMessage()` →
`sendMessage`).
"""

import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple, TypedDict

from markdown_it import MarkdownIt
from markdown_it.token import Token

KINDS = ("added", "changed", "deprecated", "removed", "fixed", "security")
KEY_MAX = 60
TITLE_MAX = 200


class ChangelogEntry(TypedDict):
    key: str
    title: str
    summary: str
    kind: str
    breaking: bool
    symbols: list[str]
    module: str


class ChangelogVersion(NamedTuple):
    version: str
    date: str
    entries: list[ChangelogEntry]


class ChangelogError(ValueError):
    """The text is not a changelog this module can read (what is wrong, for a 400)."""


# Heading words → kind (None: says nothing of the kind, only maybe breaking).
_KIND_WORDS: dict[str, str | None] = {
    "added": "added",
    "add": "added",
    "new": "added",
    "new features": "added",
    "features": "added",
    "feature": "added",
    "新增": "added",
    "新增特性": "added",
    "新特性": "added",
    "新功能": "added",
    "新增功能": "added",
    "changed": "changed",
    "changes": "changed",
    "improvements": "changed",
    "improved": "changed",
    "enhancements": "changed",
    "performance improvements": "changed",
    "改进": "changed",
    "优化": "changed",
    "改进与优化": "changed",
    "变更": "changed",
    "行为变更": "changed",
    "deprecated": "deprecated",
    "deprecations": "deprecated",
    "废弃": "deprecated",
    "弃用": "deprecated",
    "removed": "removed",
    "removals": "removed",
    "移除": "removed",
    "删除": "removed",
    "fixed": "fixed",
    "fixes": "fixed",
    "bug fixes": "fixed",
    "bugfixes": "fixed",
    "问题修复": "fixed",
    "修复": "fixed",
    "缺陷修复": "fixed",
    "security": "security",
    "安全": "security",
    "安全修复": "security",
    # Say nothing of the kind: the entries' verbs do.
    "minor changes": None,
    "patch changes": None,
    "major changes": None,
    "breaking changes": None,
    "breaking": None,
    "兼容性变更": None,
    "不兼容变更": None,
    "破坏性变更": None,
    "other changes": None,
    "其他": None,
}
_BREAKING_HEADINGS = frozenset(
    {"major changes", "breaking changes", "breaking", "兼容性变更", "不兼容变更", "破坏性变更"}
)
_BREAKING_MARK = re.compile(r"BREAKING|⚠️|⚠|🚨|💥|不兼容|破坏性变更|\[breaking\]", re.IGNORECASE)

# Leading verb → kind, for entries whose heading does not say.
_VERBS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^(add|adds|added|adding|introduce[sd]?|new|supports?)\b", re.I), "added"),
    (re.compile(r"^(新增|增加|添加|支持)"), "added"),
    (re.compile(r"^(remove[sd]?|removing|drop|drops|dropped|delete[sd]?)\b", re.I), "removed"),
    (re.compile(r"^(移除|删除|去除|下线)"), "removed"),
    (re.compile(r"^(fix|fixes|fixed|fixing|resolve[sd]?|correct(s|ed)?)\b", re.I), "fixed"),
    (re.compile(r"^(修复|修正|解决)"), "fixed"),
    (re.compile(r"^(deprecate[sd]?)\b", re.I), "deprecated"),
    (re.compile(r"^(废弃|弃用)"), "deprecated"),
    (re.compile(r"^(security)\b", re.I), "security"),
]  # fmt: skip
_DEFAULT_KIND = "changed"

_VERSION = re.compile(
    r"(?:^|\s)\[?v?(?P<version>\d+\.\d+(?:\.\d+)?(?:[-+][0-9A-Za-z.+-]+)?)\]?"
    r"(?:\s*(?:[-\u2013—/]|\()\s*(?P<date>\d{4}-\d{2}-\d{2}))?",
    re.IGNORECASE,
)
_UNRELEASED = re.compile(r"^\[?unreleased\]?", re.IGNORECASE)
# What Changesets and release tools put before an entry's words.
_ENTRY_PREFIX = re.compile(
    r"^(?:\[#?\d+\]\([^)]*\)\s*)?"  # [#123](link)
    r"(?:\[?`?[0-9a-f]{7,40}`?\]?(?:\([^)]*\))?\s*)?"  # a commit hash, maybe linked
    r"(?:Thanks\s+\[?@[\w-]+\]?(?:\([^)]*\))?!\s*)?"  # Thanks @someone!
    r"(?:[-:\u2013]\s*)?",
    re.IGNORECASE,
)
# …and after them: "- [#1223](link) ([@someone](link))".
_ENTRY_SUFFIX = re.compile(
    r"\s*(?:[-\u2013]\s*)?\(?\[#?\d+\]\([^)]*\)\)?(?:\s*\(\[@[\w-]+\]\([^)]*\)\))?\s*$"
)
_LITERALS = frozenset(
    {"true", "false", "null", "nil", "none", "undefined", "NULL", "True", "False"}
)
_BOLD_LINE = re.compile(r"\*\*[^*\n]+\*\*|__[^_\n]+__")
_MARKDOWN_NOISE = re.compile(r"[*_~]+|\[([^\]]*)\]\([^)]*\)")
_CODE = re.compile(r"`([^`]+)`")
_SYMBOL = re.compile(r"[A-Za-z_$][\w$]*(?:(?:\.|::|#|->)[A-Za-z_$][\w$]*)*")

# Only the block structure is read (headings, lists, paragraphs, code): inline
# parsing, HTML blocks, link references, setext headings, rules and quotes are off,
# which makes a 300 KB changelog about twice as fast to read (bench/content.py).
_parser = MarkdownIt("commonmark").disable(
    ["inline", "html_block", "reference", "lheading", "hr", "blockquote"]
)


def parse_changelog(text: str) -> list[ChangelogVersion]:
    """Every version of a whole CHANGELOG.md, newest first as written. Entries before
    the first version heading (or under `Unreleased`) belong to no version and are
    left out; a text with no version heading at all is one unnamed version."""
    if not isinstance(text, str):
        raise ChangelogError("A changelog is Markdown text.")
    if "\x00" in text:
        raise ChangelogError("A changelog must not contain NUL characters.")
    tokens = _parser.parse(text)
    versions: list[ChangelogVersion] = []
    current: ChangelogVersion | None = None
    preamble = ChangelogVersion("", "", [])
    headings: list[tuple[int, str]] = []  # (level, text) under the current version
    version_level = 0
    keys: set[str] = set()
    index = 0
    while index < len(tokens):
        token = tokens[index]
        if token.type == "heading_open":
            level = int(token.tag[1])
            words = _plain(tokens[index + 1].content)
            index += 3
            match = _VERSION.search(words)
            unreleased = _UNRELEASED.match(words)
            if (match or unreleased) and (current is None or level <= version_level):
                current = ChangelogVersion(
                    match["version"] if match else "unreleased",
                    (match["date"] or "") if match else "",
                    [],
                )
                if match:
                    versions.append(current)
                version_level, headings, keys = level, [], set()
                continue
            if current is None and level == 1:
                continue  # the document's title, not a module
            headings = [(lvl, w) for lvl, w in headings if lvl < level]
            headings.append((level, words))
            continue
        if (
            token.type == "paragraph_open"
            and current is not None
            and _BOLD_LINE.fullmatch(tokens[index + 1].content.strip())
        ):
            # `**新增特性**` on a line of its own: a heading below any real one.
            words = _plain(tokens[index + 1].content)
            headings = [(lvl, w) for lvl, w in headings if lvl < 7]
            headings.append((7, words))
            index += 3
            continue
        if token.type == "bullet_list_open" or token.type == "ordered_list_open":
            end = _closing(tokens, index)
            target = current if current is not None else preamble
            if target.version != "unreleased":
                for item in _items(tokens, index, end):
                    entry = _entry(item, headings, keys)
                    if entry is not None:
                        target.entries.append(entry)
            index = end + 1
            continue
        index += 1
    if not versions and preamble.entries:
        return [preamble]
    return versions


def release_entries(text: str, version: str = "") -> list[ChangelogEntry]:
    """The entries of one release's notes: the version's section when the text has
    version headings and one of them is `version`, else (notes of one release, with
    no version heading) all the text's entries."""
    if version and isinstance(text, str):
        section = _version_section(text, version)
        if section is not None:
            text = section
    versions = parse_changelog(text)
    if version:
        for found in versions:
            if found.version == version:
                return found.entries
    named = [found for found in versions if found.version]
    if named and version:
        raise ChangelogError(f"The changelog has no section for version {version}.")
    return [entry for found in versions for entry in found.entries]


def _version_section(text: str, version: str) -> str | None:
    """The lines of `version`'s section (its heading to the next heading of the same
    or a higher level), found without parsing the rest of a long file; None when no
    ATX heading names it (the whole text is parsed then)."""
    heading = re.compile(
        rf"^(#{{1,6}})[ \t]+[^\n]*?(?<![\w.])v?{re.escape(version)}(?![\w.])", re.MULTILINE
    )
    start = heading.search(text)
    if start is None:
        return None
    level = len(start.group(1))
    end = re.compile(rf"^#{{1,{level}}}[ \t]", re.MULTILINE).search(text, start.end())
    return text[start.start() : end.start() if end else len(text)]


@lru_cache(maxsize=4096)
def kind_of_heading(words: str) -> tuple[bool, str | None, bool]:
    """(is a kind heading, its kind or None, breaking) for a heading's words; a
    heading in two languages (`新增特性 / New Features`) is read in either."""
    for part in re.split(r"\s*[/|\uff5c]\s*|\s*\(\s*|\s*\)\s*", words):
        normal = _normal_heading(part)
        if normal in _KIND_WORDS:
            return True, _KIND_WORDS[normal], normal in _BREAKING_HEADINGS
    return False, None, False


def kind_of_entry(title: str) -> str:
    words = title.strip()
    for pattern, kind in _VERBS:
        if pattern.match(words):
            return kind
    return _DEFAULT_KIND


def symbols_in(markdown: str) -> list[str]:
    """API symbols named in backticks: `sendMessage()`, `RtmClient.login(token)`,
    `ChannelOptions#retain` → the identifiers, without arguments; code that is not
    one symbol (`npm i foo`, a JSON value) is left out."""
    found: list[str] = []
    for code in _CODE.findall(markdown):
        code = code.strip()
        callee = code.split("(", 1)[0].strip() if "(" in code else code
        match = _SYMBOL.fullmatch(callee)
        if match and callee not in found and callee not in _LITERALS:
            found.append(callee)
    return found


def _entry(
    item: list[Token], headings: list[tuple[int, str]], keys: set[str]
) -> ChangelogEntry | None:
    lines = [token.content for token in item if token.type == "inline"]
    if not lines:
        return None
    first = _ENTRY_SUFFIX.sub("", _ENTRY_PREFIX.sub("", lines[0], count=1)).strip()
    summary = "\n".join(line.strip() for line in lines if line.strip())
    if not first:
        return None
    kind: str | None = None
    breaking = False
    module = ""
    for _, words in headings:
        is_kind, heading_kind, heading_breaking = kind_of_heading(words)
        if is_kind:
            kind = heading_kind if heading_kind is not None else kind
            breaking = breaking or heading_breaking
        else:
            module = words
    title_text = _plain(first)
    marked = bool(_BREAKING_MARK.search(first))
    title_text = _BREAKING_MARK.sub("", title_text).strip(" :\uff1a-\u2013—!") or title_text
    if kind is None:
        kind = kind_of_entry(title_text)
    title = title_text.split("\n", 1)[0][:TITLE_MAX].strip()
    title = title[:1].upper() + title[1:]  # "BREAKING: remove x" → "Remove x"
    return {
        "key": _unique_key(title, keys),
        "title": title,
        "summary": summary,
        "kind": kind,
        "breaking": breaking or marked,
        "symbols": symbols_in(summary),
        "module": module[:100],
    }


def _items(tokens: list[Token], start: int, end: int) -> list[list[Token]]:
    """The tokens of each top-level item of the list between start and end."""
    items: list[list[Token]] = []
    depth = 0
    for token in tokens[start + 1 : end]:
        if token.type == "list_item_open" and depth == 0:
            items.append([])
        if token.type in ("bullet_list_open", "ordered_list_open"):
            depth += 1
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            depth -= 1
        if items:
            items[-1].append(token)
    return items


def _closing(tokens: list[Token], start: int) -> int:
    depth = 0
    for index in range(start, len(tokens)):
        if tokens[index].type in ("bullet_list_open", "ordered_list_open"):
            depth += 1
        elif tokens[index].type in ("bullet_list_close", "ordered_list_close"):
            depth -= 1
            if depth == 0:
                return index
    return len(tokens) - 1


def _plain(markdown: str) -> str:
    text = _MARKDOWN_NOISE.sub(lambda m: m.group(1) or "", markdown)
    return text.replace("`", "").strip()


def _normal_heading(words: str) -> str:
    words = re.sub(r"[^\w\s]", " ", words.lower())  # emoji, punctuation
    return re.sub(r"\s+", " ", words).strip()


def _unique_key(title: str, keys: set[str]) -> str:
    ascii_words = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_words.lower()).strip("-")[:KEY_MAX].strip("-")
    if not slug:
        slug = "entry"
    key, number = slug, 2
    while key in keys:
        suffix = f"-{number}"
        key = slug[: KEY_MAX - len(suffix)] + suffix
        number += 1
    keys.add(key)
    return key

"""Course Markdown to safe HTML.

Lessons, question prompts and explanations are written by authors and imported
from SDK repositories, so they are untrusted: markdown-it-py renders them
(CommonMark plus tables) and nh3 then keeps only the tags and attributes prose
needs. nh3 is the security boundary; markdown-it's own link validation is a
second line, not the one we rely on.
"""

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt
from markdown_it.token import Token

ALLOWED_TAGS = frozenset(
    {
        "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "details", "dl",
        "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "img", "kbd",
        "li", "ol", "p", "pre", "s", "strong", "sub", "summary", "sup", "table",
        "tbody", "td", "tfoot", "th", "thead", "tr", "ul",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title", "width", "height"},
    "ol": {"start"},
    # markdown-it writes a column's alignment as style="text-align: …".
    "td": {"style"},
    "th": {"style"},
}
# Code blocks keep their language class (for a highlighter), nothing else does.
ALLOWED_CLASSES = {"code": {f"language-{name}" for name in (
    "bash", "c", "console", "cpp", "dart", "diff", "go", "http", "java", "javascript", "js",
    "json", "kotlin", "objc", "python", "shell", "sh", "swift", "text", "ts", "typescript",
    "xml", "yaml",
)}}  # fmt: skip
URL_SCHEMES = frozenset({"http", "https", "mailto"})
# Removed with their content, not just unwrapped: their text is never prose.
CLEAN_CONTENT_TAGS = frozenset({"script", "style", "noscript", "iframe", "object", "template"})


@lru_cache(maxsize=8)
def _parser(heading_offset: int) -> MarkdownIt:
    md = MarkdownIt("commonmark").enable("table").enable("strikethrough")

    def shift_headings(state) -> None:
        # The page owns its <h1>; a lesson's "# Title" must sit below it so the
        # outline screen readers navigate by stays correct.
        token: Token
        for token in state.tokens:
            if token.type in ("heading_open", "heading_close"):
                level = min(int(token.tag[1]) + heading_offset, 6)
                token.tag = f"h{level}"

    if heading_offset:
        md.core.ruler.push("shift_headings", shift_headings)
    return md


def render_markdown(text: str, *, heading_offset: int = 0) -> str:
    """Render Markdown to sanitized HTML, safe to mark safe in a template.

    `heading_offset` moves every heading down that many levels (capped at h6).
    No script, style or event-handler attribute survives, and links keep only
    http(s) and mailto URLs (or relative ones) and get rel="noopener noreferrer".
    """
    if not text:
        return ""
    html = _parser(heading_offset).render(text)
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=set(CLEAN_CONTENT_TAGS),
        attributes={tag: set(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
        allowed_classes={tag: set(classes) for tag, classes in ALLOWED_CLASSES.items()},
        filter_style_properties={"text-align"},
        url_schemes=set(URL_SCHEMES),
        link_rel="noopener noreferrer",
    )

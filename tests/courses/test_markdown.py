from html.parser import HTMLParser
from urllib.parse import urlparse

import pytest

from courses.markdown import render_markdown


class _Elements(HTMLParser):
    """Every element and attribute in an HTML fragment, as a browser would see them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[tuple[str, dict[str, str]]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, {name: value or "" for name, value in attrs}))


def assert_harmless(html: str) -> None:
    for tag, attrs in _Elements(html).elements:
        assert tag not in {"script", "style", "iframe", "svg", "form", "button", "object"}
        for name, value in attrs.items():
            assert not name.startswith("on"), f"event handler {name} on <{tag}>"
            if name in {"href", "src"}:
                scheme = urlparse(value.strip()).scheme.lower()
                assert scheme in {"", "http", "https", "mailto"}, f"{name}={value!r}"


def test_markdown_renders_prose_tables_and_code():
    html = render_markdown(
        "# Title\n\nSome **bold** and `code`.\n\n| a | b |\n|---|--:|\n| 1 | 2 |\n\n"
        "```python\nprint(1)\n```\n"
    )
    assert "<h1>Title</h1>" in html
    assert "<strong>bold</strong>" in html
    assert "<code>code</code>" in html
    assert "<table>" in html and '<td style="text-align:right">2</td>' in html
    assert '<code class="language-python">' in html


def test_headings_shift_below_the_page_heading():
    html = render_markdown("# One\n\n###### Six", heading_offset=1)
    assert "<h2>One</h2>" in html
    assert "<h6>Six</h6>" in html
    assert "<h1>" not in html


@pytest.mark.parametrize(
    "markdown",
    [
        "<script>alert('x')</script>",
        "Hello <script src=https://evil.example/x.js></script>",
        '<img src="x.png" onerror="alert(1)">',
        '<a href="https://example.com" onclick="alert(1)">link</a>',
        '<div onmouseover="alert(1)">hover</div>',
        "<svg onload=alert(1)></svg>",
        '<iframe src="https://evil.example"></iframe>',
        "<style>body{display:none}</style>",
        '<a href="javascript:alert(1)">x</a>',
        "[x](javascript:alert(1))",
        '<a href="JaVaScRiPt:alert(1)">x</a>',
        '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>',
        '<form action="/accounts/logout/" method="post"><button>x</button></form>',
    ],
)
def test_script_event_handlers_and_javascript_links_do_not_survive(markdown):
    assert_harmless(render_markdown(markdown))


def test_a_lesson_mixing_prose_and_attacks_keeps_the_prose_only():
    html = render_markdown(
        "Read this.\n\n<script>steal()</script>\n\n"
        '<p onclick="steal()">Click <a href="javascript:steal()">here</a></p>'
    )
    assert_harmless(html)
    assert "Read this." in html
    assert "steal()" not in html


def test_links_keep_safe_urls_and_get_noopener():
    html = render_markdown("[docs](https://docs.example.com/a) [rel](/guide) [mail](mailto:a@b.c)")
    assert 'href="https://docs.example.com/a"' in html
    assert 'href="/guide"' in html
    assert 'href="mailto:a@b.c"' in html
    assert html.count('rel="noopener noreferrer"') == 3


def test_style_attributes_keep_only_alignment():
    html = render_markdown(
        '<table><tr><td style="text-align:left;background:url(x)">a</td></tr></table>'
    )
    assert "text-align:left" in html
    assert "background" not in html


def test_empty_markdown_renders_nothing():
    assert render_markdown("") == ""

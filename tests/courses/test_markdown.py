from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlparse

import pytest

from courses.markdown import (
    highlight_stylesheet,
    render_inline_markdown,
    render_markdown,
    without_leading_title,
)


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
    assert '<div class="highlight"><pre><code class="language-python">' in html


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


def test_a_task_list_renders_disabled_checkboxes_and_nothing_else():
    html = render_markdown("- [ ] Read the changelog\n- [x] Try the sample app\n")
    boxes = [attrs for tag, attrs in _Elements(html).elements if tag == "input"]
    assert boxes == [
        {"type": "checkbox", "disabled": "disabled"},
        {"type": "checkbox", "disabled": "disabled", "checked": "checked"},
    ]
    # Each box is labelled by its item's text (axe: form elements need labels).
    assert html.count("<label>") == 2 and "Read the changelog</label>" in html
    assert "class=" not in html


@pytest.mark.parametrize(
    "item",
    [
        "- [ ] <script>alert(1)</script>Call support",
        '- [x] <b onclick="alert(1)">Call support</b>',
        '- [ ] <img src=x onerror="alert(1)">Call support',
        '- [ ] <input type="text" name="q" onfocus="alert(1)" autofocus>Call support',
        '- [ ] <input type="submit" formaction="/accounts/logout/">Call support',
    ],
)
def test_nothing_executable_survives_in_a_task_item(item):
    html = render_markdown(item)
    assert_harmless(html)
    assert "alert" not in html and "Call support" in html
    for tag, attrs in _Elements(html).elements:
        if tag == "input":
            assert attrs["type"] == "checkbox" and attrs["disabled"] == "disabled"
            assert set(attrs) <= {"type", "disabled", "checked"}


@pytest.mark.parametrize(
    ("language", "code", "token"),
    [
        ("python", 'def send(text):\n    return "sent"  # now\n', '<span class="k">def</span>'),
        ("kotlin", "val client = ChatClient()\n", '<span class="kd">val</span>'),
    ],
)
def test_fenced_code_is_highlighted_with_classes_and_no_style(language, code, token):
    html = render_markdown(f"```{language}\n{code}```\n")
    assert html.startswith(f'<div class="highlight"><pre><code class="language-{language}">')
    assert token in html
    assert "style=" not in html
    classes = {attrs.get("class") for tag, attrs in _Elements(html).elements if tag == "span"}
    assert classes and None not in classes


def test_code_in_an_unknown_language_is_escaped_not_highlighted():
    html = render_markdown("```brainfudge\n<b onclick=x>+</b>\n```\n")
    assert "highlight" not in html and "<span" not in html
    assert "&lt;b onclick=x&gt;" in html


def test_authors_cannot_borrow_highlight_classes_or_styles_for_their_own_markup():
    html = render_markdown(
        '<div class="highlight evil" style="position:fixed">x</div>'
        '<span class="k banner" style="color:red">y</span>'
    )
    assert "style=" not in html and "evil" not in html and "banner" not in html


def test_the_committed_pygments_stylesheet_matches_the_highlighter():
    # `make pygments-css` writes it; a new Pygments or style must be regenerated.
    committed = Path("training/static/training/pygments.css").read_text(encoding="utf-8")
    assert committed == highlight_stylesheet()
    assert ".highlight .k {" in committed


def test_inline_markdown_renders_code_and_emphasis_only():
    html = render_inline_markdown("Call `List<String>.edit()` *once*, **not** ~~twice~~")
    assert html == (
        "Call <code>List&lt;String&gt;.edit()</code> <em>once</em>, "
        "<strong>not</strong> <s>twice</s>"
    )


@pytest.mark.parametrize(
    "text",
    [
        "# Heading\n\n- a list",
        "<script>alert(1)</script> Map<K, V>",
        '<b onclick="alert(1)">x</b>',
        "[a link](javascript:alert(1))",
        "![img](x.png)",
    ],
)
def test_inline_markdown_has_no_block_no_link_and_no_raw_html(text):
    html = render_inline_markdown(text)
    assert_harmless(html)
    assert {tag for tag, _ in _Elements(html).elements} <= {"code", "em", "strong", "s"}


def test_a_leading_heading_that_repeats_the_title_is_dropped():
    body = "# Editing  sent messages\n\nIntro.\n\n## How\n\n# Editing sent messages\n"
    assert without_leading_title(body, "Editing sent messages") == (
        "\nIntro.\n\n## How\n\n# Editing sent messages\n"
    )
    assert without_leading_title("Editing sent messages\n===\nIntro.", "editing sent messages") == (
        "Intro."
    )


def test_a_leading_heading_about_something_else_stays():
    body = "## What changed\n\nIntro."
    assert without_leading_title(body, "Editing sent messages") == body
    assert without_leading_title("Intro.\n\n# Editing", "Editing") == "Intro.\n\n# Editing"

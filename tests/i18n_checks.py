"""Checks that the project's text is translatable and translated, without GNU
gettext: templates scanned for visible text outside the translation tags, and the
catalogues read with polib."""

import re
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TEMPLATES = ROOT / "training" / "templates"
LOCALE = ROOT / "locale"

# Text that is the same in every language: the product's name.
NOT_TRANSLATED = {"Preflight"}
# Attributes a person reads or hears (screen readers announce them).
READ_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "aria-description", "label"}
_LETTER = re.compile(r"[^\W\d_]")
_COMMENTS = re.compile(r"{#.*?#}|{%\s*comment\s*%}.*?{%\s*endcomment\s*%}", re.S)
_BLOCKS = re.compile(r"{%\s*blocktrans(?:late)?\b.*?%}.*?{%\s*endblocktrans(?:late)?\s*%}", re.S)
_TAGS = re.compile(r"{%.*?%}|{{.*?}}", re.S)


def _strip_template(source: str) -> str:
    """The source with comments, translation blocks, tags and variables blanked."""
    for pattern in (_COMMENTS, _BLOCKS, _TAGS):
        source = pattern.sub(" ", source)
    return source


def _untranslated(text: str) -> list[str]:
    found = []
    for chunk in re.split(r"\s{2,}|\n", text):
        words = chunk.strip()
        rest = words
        for name in NOT_TRANSLATED:
            rest = rest.replace(name, "")
        if _LETTER.search(rest):
            found.append(words)
    return found


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in {"script", "style"}:
            self._skip += 1
        for name, value in attrs:
            if name in READ_ATTRIBUTES and value:
                self.found += _untranslated(value)

    def handle_endtag(self, tag):
        if tag in {"script", "style"} and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.found += _untranslated(data)


def untranslated_text(source: str, *, html: bool = True) -> list[str]:
    """Visible text of a template that no translation tag covers."""
    stripped = _strip_template(source)
    if not html:
        return _untranslated(stripped)
    collector = _TextCollector()
    collector.feed(stripped)
    collector.close()
    return collector.found


def template_files() -> list[Path]:
    return sorted(p for p in TEMPLATES.rglob("*") if p.suffix in {".html", ".txt"})


# --- what the code and templates ask to translate, found without xgettext ---------

_CALLS = {
    "gettext": ("msgid",),
    "gettext_lazy": ("msgid",),
    "_": ("msgid",),
    "ngettext": ("msgid", "plural"),
    "ngettext_lazy": ("msgid", "plural"),
    "pgettext": ("context", "msgid"),
    "pgettext_lazy": ("context", "msgid"),
    "npgettext": ("context", "msgid", "plural"),
    "npgettext_lazy": ("context", "msgid", "plural"),
}
_TEMPLATE_CONSTANT = re.compile(r"""_\(\s*(?:"([^"]*)"|'([^']*)')\s*\)""")


def _literal(node) -> str | None:
    import ast

    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return None
    return None


def python_messages(paths) -> set[tuple[str | None, str]]:
    """(context, msgid) of every gettext-family call with literal arguments."""
    import ast

    found = set()
    for path in paths:
        tree = ast.parse(Path(path).read_text(), str(path))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            roles = _CALLS.get(name)
            if not roles or len(node.args) < len(roles):
                continue
            values = dict(zip(roles, (_literal(arg) for arg in node.args), strict=False))
            if values.get("msgid") is None:
                continue
            found.add((values.get("context"), values["msgid"]))
    return found


def template_messages(paths) -> set[tuple[str | None, str]]:
    """(context, msgid) of every {% translate %}, {% blocktranslate %} and _("…")
    in the templates, as Django itself will look them up."""
    from django.template import engines
    from django.templatetags.i18n import BlockTranslateNode, TranslateNode

    engine = engines["django"].engine
    found = set()
    for path in paths:
        source = Path(path).read_text()
        template = engine.from_string(source)
        for node in template.nodelist.get_nodes_by_type(TranslateNode):
            context = node.message_context.var if node.message_context else None
            found.add((context, node.filter_expression.var.literal))
        for node in template.nodelist.get_nodes_by_type(BlockTranslateNode):
            singular, _ = node.render_token_list(node.singular)
            if node.trimmed:
                singular = node.trimmed and " ".join(singular.split())
            context = node.message_context.var if node.message_context else None
            found.add((context, singular))
        for match in _TEMPLATE_CONSTANT.finditer(source):
            found.add((None, match[1] if match[1] is not None else match[2]))
    return found

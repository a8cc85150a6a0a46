"""The API's JSON parser: DRF's, with a limit on how deeply a body may nest.

Python's json module parses nested arrays and objects by recursion: a body of
100,000 `[` (100 kB) raises RecursionError, a 500, and one just under the
interpreter's limit would parse, then overflow the stack of whatever walks it
next. No document of ours nests more than a few levels (a course: quiz, question,
choice), so the depth is counted before parsing, in one pass and without
recursion, and a deeper body is a 400 (REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]).
"""

import codecs
import re

from django.conf import settings
from django.utils.translation import gettext
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json

MAX_DEPTH = 64

# A string (its escapes included, so `"\""` is one string) or a bracket: brackets
# inside strings are text, not nesting. An unterminated string runs to the end of
# the text, and the quantifiers are possessive, so no quote is ever scanned from
# twice: linear time whatever the body.
_TOKEN = re.compile(r'"(?:[^"\\]++|\\.)*+(?:"|\\?\Z)|[\[\]{}]', re.DOTALL)
_OPEN = frozenset("[{")


def json_depth_exceeds(text: str, limit: int = MAX_DEPTH) -> bool:
    """Whether the JSON text nests arrays and objects more than `limit` deep.

    Counts brackets outside strings; malformed text is counted as well as it can
    be (the parser refuses it next anyway)."""
    depth = 0
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token in _OPEN:
            depth += 1
            if depth > limit:
                return True
        elif token[0] != '"' and depth:
            depth -= 1
    return False


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = codecs.getreader(encoding)(stream).read()
        except ValueError as exc:  # UnicodeDecodeError, as DRF's parser reports it
            raise ParseError(f"JSON parse error - {exc}") from exc
        if json_depth_exceeds(text):
            raise ParseError(
                gettext("JSON nested too deeply: at most %(limit)d levels of arrays and objects.")
                % {"limit": MAX_DEPTH}
            )
        parse_constant = json.strict_constant if self.strict else None
        try:
            return json.loads(text, parse_constant=parse_constant)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc

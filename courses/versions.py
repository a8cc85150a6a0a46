"""Semantic Versioning 2.0 parsing and a sort key the database can order by.

The sort key is a plain string whose ordering under *any* collation matches SemVer
precedence: it uses only digits and lowercase hex letters, which every collation
orders the same way (PostgreSQL's locale collations ignore punctuation, so a key with
separators would sort wrongly there).
"""

import re
from dataclasses import dataclass

from django.utils.translation import gettext

# semver.org's recommended expression, with an optional leading "v" that we drop.
# ASCII only: SemVer's digits are 0-9, but Python's \d (and int()) also take other
# scripts' digits, so "1\u0660.0.0" (an Arabic-Indic zero) would be read as 10.0.0.
_SEMVER = re.compile(
    r"^v?(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)"
    r"(?:-(?P<prerelease>(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)"
    r"(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?"
    r"(?:\+(?P<build>[0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$",
    re.ASCII,
)
# The same expression for OpenAPI schemas (ECMA-262: no named groups), with the
# surrounding white space that `Version.parse` strips.
PATTERN = (
    r"^\s*" + re.sub(r"\(\?P<\w+>", "(", _SEMVER.pattern)[1:-1].replace(r"\d", "[0-9]") + r"\s*$"
)
MAX_VERSION_LENGTH = 64
_NUMBER_DIGITS = 10  # numbers up to 9,999,999,999: far beyond any real SDK version


class InvalidVersion(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Version:
    major: int
    minor: int
    patch: int
    prerelease: tuple[str, ...] = ()
    build: str = ""

    @classmethod
    def parse(cls, text: str) -> "Version":
        if not isinstance(text, str):
            raise InvalidVersion(gettext("A version must be a string such as 2.4.0."))
        text = text.strip()
        if len(text) > MAX_VERSION_LENGTH:
            raise InvalidVersion(
                gettext("A version has at most %(n)d characters.") % {"n": MAX_VERSION_LENGTH}
            )
        match = _SEMVER.match(text)
        if not match:
            raise InvalidVersion(
                gettext(
                    "'%(text)s' is not a semantic version "
                    "(MAJOR.MINOR.PATCH, e.g. 2.4.0 or 2.4.0-rc.1)."
                )
                % {"text": text}
            )
        numbers = [int(match[name]) for name in ("major", "minor", "patch")]
        prerelease = tuple(match["prerelease"].split(".")) if match["prerelease"] else ()
        limit = 10**_NUMBER_DIGITS
        if any(n >= limit for n in numbers) or any(
            part.isdigit() and int(part) >= limit for part in prerelease
        ):
            raise InvalidVersion(
                gettext("Version numbers must be below %(limit)s.") % {"limit": f"{limit:,}"}
            )
        return cls(*numbers, prerelease=prerelease, build=match["build"] or "")

    def __str__(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        if self.prerelease:
            text += "-" + ".".join(self.prerelease)
        if self.build:
            text += "+" + self.build
        return text

    @property
    def sort_key(self) -> str:
        """A string that sorts in SemVer precedence order (build metadata is ignored)."""
        key = "".join(f"{n:0{_NUMBER_DIGITS}d}" for n in (self.major, self.minor, self.patch))
        if not self.prerelease:
            # A release sorts after all its pre-releases, whose keys start with 01 or 02.
            return key + "ff"
        encoded = bytearray()
        for part in self.prerelease:
            if part.isdigit():
                # Numeric identifiers sort numerically and before alphanumeric ones.
                encoded += b"\x01" + f"{int(part):0{_NUMBER_DIGITS}d}".encode()
            else:
                # Terminated so that "a" sorts before "a-b", as ASCII order wants.
                encoded += b"\x02" + part.encode("ascii") + b"\x00"
        return key + encoded.hex()


# Worst case: ~30 one-digit numeric identifiers, each 11 bytes, hex-encoded.
SORT_KEY_LENGTH = 1024

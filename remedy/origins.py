"""Origin patterns: who may frame the agent panel and whom it talks to, one matcher for both.

A pattern is an origin (`https://support.example.com`, `http://127.0.0.1:8001`) or an origin
whose first host label is `*` (`https://*.apps.zdusercontent.com`): the `*` stands for exactly
one label, so `https://a.apps.zdusercontent.com` matches and `https://a.b.apps.zdusercontent.com`
does not. Scheme and port must be equal. Paths, a bare `*`, a scheme alone, `*` elsewhere in the
host and other schemes are refused, so a typo cannot open the panel (and the credential it holds)
to every site.

Why one label and not CSP's own `*.` (which matches any depth): the browser's `postMessage`
needs one concrete target origin, so the panel can only ever talk to an origin it has matched;
the server therefore puts the matched concrete origin into `frame-ancestors` too
(remedy/console/framing.py), and both sides of the panel agree on exactly the same set.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_LABEL = r"[a-z0-9]([a-z0-9-]*[a-z0-9])?"
_PATTERN = re.compile(
    rf"^(?P<scheme>https?)://(?P<wild>\*\.)?(?P<host>{_LABEL}(\.{_LABEL})*)(?P<port>:\d{{1,5}})?$"
)
_ORIGIN = re.compile(rf"^(https?)://({_LABEL}(\.{_LABEL})*)(:\d{{1,5}})?$")
_ONE_LABEL = re.compile(rf"^{_LABEL}$")


# What an entry looks like, for an API schema (JSON Schema's regex dialect: no named groups;
# letters in any case, a trailing slash allowed, as `OriginPattern.parse` takes them).
_SCHEMA_LABEL = r"[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?"
SCHEMA_PATTERN = (
    rf"^[hH][tT][tT][pP][sS]?://(\*\.)?{_SCHEMA_LABEL}(\.{_SCHEMA_LABEL})*(:[0-9]{{1,5}})?/?$"
)


class BadPattern(ValueError):
    """An allow-list entry that is not an origin or a one-label wildcard origin."""


@dataclass(frozen=True)
class OriginPattern:
    """One allow-list entry: scheme, host (after the `*.` when wild), port (with its colon)."""

    scheme: str
    host: str
    port: str
    wildcard: bool

    @classmethod
    def parse(cls, text: str) -> OriginPattern:
        """Parse one entry (case-insensitive, a trailing slash ignored); raise BadPattern."""
        source = text.strip().lower().rstrip("/")
        match = _PATTERN.match(source)
        if match is None:
            raise BadPattern(
                f"{text!r} is not an origin such as https://support.example.com or "
                "https://*.example.com (`*` for one label; never `*` alone)"
            )
        return cls(match["scheme"], match["host"], match["port"] or "", bool(match["wild"]))

    def __str__(self) -> str:
        """The entry as written in settings: `https://*.example.com:8443`."""
        return f"{self.scheme}://{'*.' if self.wildcard else ''}{self.host}{self.port}"

    def matches(self, origin: str) -> bool:
        """Tell whether a concrete origin (`https://a.example.com`) is one this entry allows."""
        candidate = origin.strip().lower()
        if _ORIGIN.match(candidate) is None:
            return False
        scheme, _, rest = candidate.partition("://")
        host, colon, port = rest.partition(":")
        if scheme != self.scheme or (colon + port) != self.port:
            return False
        if not self.wildcard:
            return host == self.host
        label, dot, parent = host.partition(".")
        return bool(dot) and parent == self.host and _ONE_LABEL.match(label) is not None


def parse_patterns(entries: list[str] | tuple[str, ...]) -> tuple[OriginPattern, ...]:
    """Parse entries, dropping repeats; raise BadPattern naming the first bad one."""
    patterns: list[OriginPattern] = []
    for entry in entries:
        pattern = OriginPattern.parse(entry)
        if pattern not in patterns:
            patterns.append(pattern)
    return tuple(patterns)


def allowed(patterns: tuple[OriginPattern, ...], origin: str) -> bool:
    """Tell whether any pattern allows the concrete `origin`."""
    return any(pattern.matches(origin) for pattern in patterns)

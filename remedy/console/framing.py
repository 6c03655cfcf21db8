"""Who may frame the agent panel: REMEDY_PANEL_FRAME_ANCESTORS, checked when the app starts.

The setting is a space-separated list of `'self'` and origin patterns (remedy/origins.py:
`https://support.example.com`, `https://*.apps.zdusercontent.com` where `*` is one label, a
port if not the default). A bare `*`, a scheme alone, paths and other schemes are refused with
the offending entry, so a typo cannot open the panel to every site.

The same patterns decide both directions. A host page names its own origin in the panel's URL
(`?host=https://a.apps.zdusercontent.com`); when a pattern allows it, the panel's
`frame-ancestors` names that concrete origin (with `'self'` and the setting's concrete origins,
for help desks that nest the app frame inside their own page) and the panel talks to that origin
only. Wildcard entries never reach the header as wildcards: CSP's `*.` would match any depth,
the panel's one label. A host the patterns do not allow gets a panel its browser refuses to show.
"""

from __future__ import annotations

from dataclasses import dataclass

from remedy.origins import BadPattern, OriginPattern, allowed, parse_patterns

SETTING = "REMEDY_PANEL_FRAME_ANCESTORS"


@dataclass(frozen=True)
class PanelFraming:
    """The parsed setting: whether remedy's own pages may frame the panel, and the patterns."""

    self_allowed: bool
    patterns: tuple[OriginPattern, ...]

    def host_origin(self, host: str | None) -> str | None:
        """The host's concrete origin when a pattern allows it (lower case), else None."""
        if not host or not allowed(self.patterns, host):
            return None
        return host.strip().lower()

    def sources(self, host_origin: str | None = None) -> tuple[str, ...]:
        """The `frame-ancestors` sources: 'self', the concrete entries and the allowed host."""
        sources = ["'self'"] if self.self_allowed else []
        sources += [str(p) for p in self.patterns if not p.wildcard]
        if host_origin and host_origin not in sources:
            sources.append(host_origin)
        return tuple(sources) or ("'none'",)


def panel_framing(setting: str) -> PanelFraming:
    """Parse the setting; raise ValueError naming the setting and the unsafe entry."""
    tokens = setting.split()
    if not tokens:
        raise ValueError(f"{SETTING} is empty: use 'self' to allow this origin only")
    self_allowed = any(token in ("'self'", "self") for token in tokens)
    try:
        patterns = parse_patterns([t for t in tokens if t not in ("'self'", "self")])
    except BadPattern as error:
        raise ValueError(f"{SETTING}: {error} (never '*')") from None
    return PanelFraming(self_allowed, patterns)


def frame_ancestors(setting: str) -> tuple[str, ...]:
    """Parse the setting into its entries as written ('self' first); raise ValueError if unsafe."""
    framing = panel_framing(setting)
    return (("'self'",) if framing.self_allowed else ()) + tuple(map(str, framing.patterns))

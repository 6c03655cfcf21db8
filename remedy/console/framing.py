"""Who may frame the agent panel: REMEDY_PANEL_FRAME_ANCESTORS, checked when the app starts.

The setting is a space-separated list of CSP `frame-ancestors` sources, limited to what the
panel can also check a `postMessage` origin against: `'self'` and origins
(`https://support.example.com`, `https://*.zendesk.com` for any subdomain, a port if not the
default). A bare `*`, a scheme alone, paths and other schemes are refused with the offending
entry, so a typo cannot open the panel (which holds an API key) to every site.
"""

from __future__ import annotations

import re

SETTING = "REMEDY_PANEL_FRAME_ANCESTORS"
_ORIGIN = re.compile(
    r"^https?://(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$"
)


def frame_ancestors(setting: str) -> tuple[str, ...]:
    """Parse the setting into its sources ('self' and origins); raise ValueError if unsafe."""
    sources: list[str] = []
    for token in setting.split():
        source = "'self'" if token in ("'self'", "self") else token.lower().rstrip("/")
        if source != "'self'" and not _ORIGIN.match(source):
            raise ValueError(
                f"{SETTING}: {token!r} is not 'self' or an origin such as "
                "https://support.example.com or https://*.example.com (never '*')"
            )
        if source not in sources:
            sources.append(source)
    if not sources:
        raise ValueError(f"{SETTING} is empty: use 'self' to allow this origin only")
    return tuple(sources)

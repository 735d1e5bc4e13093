"""The gallery of the Reconstruct tab: its images per domain, and the ones the page and the examples start from."""
from __future__ import annotations

from cs_core.assets import list_assets
from cs_core.domains import DOMAINS

DEFAULT_M = {"mnist": 100, "faces": 500}
DEFAULT_ASSET = {"mnist": "digit-test-3856"}


def assets_of(domain: str) -> list:
    return list(list_assets(domain))


def gallery_items(domain: str) -> list[tuple[str, str]]:
    return [(str(a.path), a.name) for a in assets_of(domain)]


def asset_choices() -> list[tuple[str, str]]:
    """Every gallery image (all domains, so an API call may name any), labelled with its domain."""
    return [(f"{a.name} · {name}" + ("" if a.in_range else " · off the prior's range"), a.name)
            for name in DOMAINS for a in assets_of(name)]


def pick_asset(domain: str, preferred: str | None = None, in_range: bool = True, nth: int = 0) -> str | None:
    """``preferred`` if the gallery has it, else the ``nth`` image of the domain that is (or is not) in range."""
    items = assets_of(domain)
    if preferred in {a.name for a in items}:
        return preferred
    fitting = [a.name for a in items if a.in_range == in_range] or [a.name for a in items]
    return fitting[nth % len(fitting)] if fitting else None


def default_asset(domain: str) -> str | None:
    """The image the page opens with: a held-out test digit (a '7') on which both families do their typical best."""
    return pick_asset(domain, DEFAULT_ASSET.get(domain))

"""The example gallery: every manifest entry is a readable PNG of a known domain."""
import json

import pytest
from PIL import Image

from cs_core.assets import ASSET_DIR, MANIFEST, Asset, get_asset, list_assets
from cs_core.domains import DOMAINS
from cs_core.errors import InputError

REQUIRED = {"name", "domain", "file", "source", "licence", "in_range", "description"}


def test_manifest_entries_complete():
    entries = json.loads(MANIFEST.read_text())
    assert entries, "empty manifest"
    names = [e["name"] for e in entries]
    assert len(names) == len(set(names)), "asset names must be unique"
    for entry in entries:
        assert REQUIRED <= set(entry), f"{entry.get('name')}: missing {REQUIRED - set(entry)}"
        assert isinstance(entry["in_range"], bool)


@pytest.mark.parametrize("asset", list_assets(), ids=lambda a: a.name)
def test_asset_loads_as_png_of_its_domain(asset: Asset):
    assert asset.domain in DOMAINS
    assert asset.path.is_absolute() and asset.path.parent == ASSET_DIR and asset.path.is_file()
    with Image.open(asset.path) as img:
        assert img.format == "PNG"
        img.load()
        size = DOMAINS[asset.domain].size
        assert img.size == (size, size)
        assert img.mode == ("L" if DOMAINS[asset.domain].channels == 1 else "RGB")
    assert asset.path.stat().st_size < 20_000, "keep gallery PNGs small"


def test_gallery_covers_both_domains_in_and_off_range():
    for domain in DOMAINS:
        flags = {a.in_range for a in list_assets(domain)}
        assert flags == {True, False}, f"{domain} needs in-range and off-range examples"
    assert len([a for a in list_assets("mnist") if a.name.startswith("digit-test-")]) == 12
    seeds = [int(a.name.rsplit("-", 1)[1]) for a in list_assets("faces") if a.name.startswith("face-gen-seed-")]
    assert seeds and all(s < 2000 for s in seeds), "gallery seeds must stay below the evaluation seeds (>= 2000)"


def test_get_asset_and_unknown_name():
    assert get_asset("astronaut-face").domain == "faces"
    with pytest.raises(InputError, match="unknown asset 'nope'.*astronaut-face"):
        get_asset("nope")
    with pytest.raises(InputError, match="unknown domain"):
        list_assets("cifar")

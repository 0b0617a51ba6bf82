"""Vendor generators against golden files: one small fixture tree per platform case,
every device's device.cfg compared byte for byte with tests/render/golden/<case>/.

Regenerate after an intended template change with scripts/refresh-golden.sh
(PESDC_REFRESH_GOLDEN=1), then review the diff like any other code change.
"""

from __future__ import annotations

import pytest

from tests.render.vendor_util import CASES, GOLDEN, REFRESH, golden_path, render_case

EXPECTED_DEVICES = {
    "vrp_core": {"core-1", "core-2"},
    "vrp_families": {"ce-1", "ce-2", "ne-1", "ar-1"},
    "usg_fw": {"fw-1", "fw-2", "gk-1"},
    "comware": {"sw-1", "sw-2", "agg-1", "rt-1", "fw-1", "fw-2", "gk-1"},
    "ios": {"acc-1", "acc-2", "isr-1"},
    "iosxe": {"sw-1", "sw-2", "rt-1"},
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden(case: str) -> None:
    rendered, problems = render_case(case)
    assert not problems, [p.message for p in problems]
    assert set(rendered) == EXPECTED_DEVICES[case]
    folder = GOLDEN / case
    if REFRESH:
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.cfg"):
            if old.stem not in rendered:
                old.unlink()
        for dev, (_, text) in rendered.items():
            golden_path(case, dev).write_bytes(text.encode("utf-8"))
    stale = {p.stem for p in folder.glob("*.cfg")} - set(rendered)
    assert not stale, f"golden files without a device: {sorted(stale)}"
    for dev, (_, text) in sorted(rendered.items()):
        path = golden_path(case, dev)
        assert path.is_file(), f"no golden file {path}: run scripts/refresh-golden.sh"
        assert path.read_bytes() == text.encode("utf-8"), (
            f"{case}/{dev}.cfg differs from its golden file: review, then run "
            "scripts/refresh-golden.sh")


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_render_is_deterministic(case: str) -> None:
    first, _ = render_case(case)
    second, _ = render_case(case)
    assert {d: t.encode() for d, (_, t) in first.items()} == \
        {d: t.encode() for d, (_, t) in second.items()}

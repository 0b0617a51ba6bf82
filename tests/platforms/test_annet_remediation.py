"""annet as a second opinion on pesdc's remediation (issue 15, point 4): for every
example vendor device, from its factory configuration and from a drifted one, each
difference between pesdc's remediation and annet's patch is explained by a rule of
annet_explanations.yaml, and the differences are those annet_expected.yaml records.
A new difference, or a recorded one that is gone, fails: regenerate with
`scripts/annet-compare.py --regen` and review the diff (tests/platforms/annet_compare.py
says how the comparison is made)."""

from __future__ import annotations

import pytest

from tests.platforms import annet_compare as ac

try:
    import annet  # noqa: F401
except ImportError as exc:  # the judge is missing: an error, never a pass or a skip
    raise ImportError("annet is not installed: scripts/setup.sh installs the dev "
                      "extras (pyproject.toml pins it)") from exc

HUAWEI = "Huawei CE12804"


def test_annet_is_the_version_the_expectations_are_from() -> None:
    assert ac.annet_version() == ac.expected()["annet"], (
        "annet changed: regenerate with scripts/annet-compare.py --regen and review")


def test_annet_patch_is_annets_own() -> None:
    """The library path the harness drives is annet's patch: a changed hostname is the
    new one alone (huawei.rul `sysname`), a removed VLAN's undo comes from its vlan
    logic, and a new section is closed with `quit`."""
    running = "sysname old\n#\nvlan batch 10 20\n#\n"
    intended = "sysname new\n#\nvlan batch 10\n#\ninterface Vlanif10\n description x\n#\n"
    patch, how = ac.annet_patch(HUAWEI, running, intended)
    assert how == "implicit defaults"
    assert "sysname new" in patch and "undo sysname old" not in patch
    assert "undo vlan batch 20" in patch
    at = patch.index("interface Vlanif10")
    assert patch[at:at + 3] == ["interface Vlanif10", " description x", " quit"]


def test_differences_name_what_each_side_alone_sends_and_moves() -> None:
    pesdc = ["undo a", "b", "c", "e", "sec", " x", " y", " z", " quit"]
    annet = ["e", "b", "c", "sec", " y", " z", " x", " quit", "d"]
    assert ac.differences(pesdc, annet) == [
        "pesdc-only: undo a", "annet-only: d", "order: e", "order: sec > x"]
    assert ac.differences(["a", "b"], ["a", "b"]) == []


def test_a_difference_no_rule_explains_is_unexplained() -> None:
    assert ac.classify("huawei_vrp", ["pesdc-only: no such command ever"]) == {
        ac.UNEXPLAINED: ["pesdc-only: no such command ever"]}


def test_the_drift_changes_three_things_on_every_device() -> None:
    for name, device in ac.devices().items():
        running, done = ac.drift(device)
        assert [d.split(":")[0] for d in done] in (
            ["removed", "changed", kind] for kind in ("switched on", "added")), (name, done)
        assert running != device.intended, name


def test_every_expected_device_is_an_example_and_back() -> None:
    recorded, now = set(ac.expected()["devices"]), set(ac.devices())
    assert not now - recorded, f"new example devices, not compared yet: {sorted(now - recorded)}"
    assert not recorded - now, f"recorded devices no longer examples: {sorted(recorded - now)}"


def test_every_rule_explains_a_difference() -> None:
    used = {rule for dev in ac.expected()["devices"].values() for case in ac.CASES
            if dev[case] for rule in dev[case]["differences"]}
    stale = [r.id for r in ac.rules() if r.id not in used]
    assert not stale, f"rules of {ac.EXPLANATIONS.name} that explain nothing: {stale}"


@pytest.mark.parametrize("device", sorted(ac.devices()))
def test_pesdc_and_annet_differ_only_as_explained(device: str) -> None:
    got = ac.device_data(ac.devices()[device])
    unexplained = {case: got[case]["differences"][ac.UNEXPLAINED] for case in ac.CASES
                   if got[case] and ac.UNEXPLAINED in got[case]["differences"]}
    assert not unexplained, (f"{device}: differences from annet no rule of "
                             f"{ac.EXPLANATIONS.name} explains: {unexplained}")
    want = ac.expected()["devices"].get(device)
    assert want is not None, f"{device}: not in {ac.EXPECTED.name}; regenerate"
    for case in ac.CASES:
        assert _flat(got[case]) == _flat(want[case]), _changes(device, case, got, want)
    assert got == want


def _flat(case: dict | None) -> set[tuple[str, str]]:
    if case is None:
        return set()
    return {(rule, d) for rule, diffs in case["differences"].items() for d in diffs}


def _changes(device: str, case: str, got: dict, want: dict) -> str:
    new, gone = _flat(got[case]) - _flat(want[case]), _flat(want[case]) - _flat(got[case])
    return (f"{device} {case}: new differences {sorted(new)}; recorded ones gone "
            f"{sorted(gone)}; regenerate with scripts/annet-compare.py --regen")

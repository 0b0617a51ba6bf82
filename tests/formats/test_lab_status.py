"""pesdc lab status --format json without a lab: no lab, a lab not up, a lab whose
nodes are gone (its state file left behind) and a multi-center lab's group file all
give a document the schema accepts, state down, exit 1 (a lab that is not up is never
an empty success). The state files are written as pesdc writes them; no namespace is
created, nothing runs."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path

from tests.formats.conftest import TOPO, Run, conforms, errors


def _lab_state(state: Path, name: str) -> None:
    """A lab's state file whose nodes' namespaces do not exist (a lab that went down
    without `lab down`: a reboot)."""
    d = state / "labs" / name
    d.mkdir(parents=True)
    nodes = {n: {"name": n, "netns": f"pesdc-fmt-none-{n}", "role": role, "host": n,
                 "mgmt": mgmt, "pid": None}
             for n, role, mgmt in [("mis-1", "server", "10.0.20.11"),
                                   ("fw-1", "firewall", "10.0.90.2"),
                                   ("controller", "controller", None)]}
    (d / "state.json").write_text(json.dumps({"nodes": nodes}))


def test_no_lab_at_all_is_down(pesdc: Callable[..., Run], state: Path) -> None:
    res = pesdc("lab", "status", "--format", "json")
    assert res.code == 1
    conforms("lab-status", res.doc)
    assert (res.doc["lab"], res.doc["state"], res.doc["nodes"]) == (None, "down", [])
    assert res.doc["notes"] == ["no lab is up (pesdc lab up PATH)"]


def test_a_named_lab_that_is_not_up_is_down(pesdc: Callable[..., Run], state: Path) -> None:
    res = pesdc("lab", "status", "--name", "fmtlab", "--format", "json")
    assert res.code == 1
    conforms("lab-status", res.doc)
    assert (res.doc["lab"], res.doc["state"]) == ("fmtlab", "down")
    assert "lab fmtlab is not up" in res.doc["notes"][0]
    text = pesdc("lab", "status", "--name", "fmtlab")
    assert text.code == 1 and "lab fmtlab: down" in text.out


def test_a_lab_whose_nodes_are_gone_lists_them_down(pesdc: Callable[..., Run],
                                                    state: Path) -> None:
    _lab_state(state, "fmtgone")
    res = pesdc("lab", "status", "--format", "json")  # the only lab: picked
    assert res.code == 1
    conforms("lab-status", res.doc)
    assert res.doc["lab"] == "fmtgone" and res.doc["state"] == "down"
    assert {n["node"]: n["state"] for n in res.doc["nodes"]} == \
        {"mis-1": "down", "fw-1": "down", "controller": "down"}
    assert all(n["center"] is None for n in res.doc["nodes"])
    # --json is the older spelling of the same document, byte for byte.
    assert pesdc("lab", "status", "--json").out == res.out == \
        pesdc("lab", "status", "--format", "json").out


def test_several_labs_without_a_name_is_an_error_not_a_document(
        pesdc: Callable[..., Run], state: Path) -> None:
    _lab_state(state, "fmta")
    _lab_state(state, "fmtb")
    res = pesdc("lab", "status", "--format", "json")
    assert res.code == 2 and res.out == ""
    assert "several labs are up: fmta, fmtb; choose one with --name" in res.err


def test_a_multi_center_lab_names_its_centers_and_who_is_left_out(
        pesdc: Callable[..., Run], state: Path) -> None:
    d = state / "labs" / "fmtgrp"
    d.mkdir(parents=True)
    (d / "group.json").write_text(json.dumps({
        "name": "fmtgrp", "centers": ["jinan", "shandong"], "sources": [str(TOPO)],
        "servers": {"shandong": ["dxp-1"]}, "delayline_pid": None}))
    res = pesdc("lab", "status", "--name", "fmtgrp", "--format", "json")
    assert res.code == 1
    conforms("lab-status", res.doc)
    assert res.doc["centers"] == ["jinan", "shandong"]
    assert res.doc["servers"] == {"shandong": ["dxp-1"]}
    (link,) = res.doc["nodes"]  # the members are not up: only the uplinks' node
    assert (link["node"], link["state"]) == ("uplinks", "down")
    notes = " ".join(res.doc["notes"])
    assert "shandong: only servers dxp-1 are in this lab" in notes and "bus-1" in notes
    assert "zone exchange keeps one server (dxp-1)" in notes


def test_the_schema_rejects_an_unknown_state_or_a_node_without_state(
        pesdc: Callable[..., Run], state: Path) -> None:
    _lab_state(state, "fmtgone")
    doc = pesdc("lab", "status", "--format", "json").doc
    broken = copy.deepcopy(doc)
    broken["state"] = "half"
    assert errors("lab-status", broken)
    broken = copy.deepcopy(doc)
    del broken["nodes"][0]["state"]
    assert any("'state' is a required property" in e for e in errors("lab-status", broken))
    broken = copy.deepcopy(doc)
    broken["nodes"] = {}
    assert errors("lab-status", broken)

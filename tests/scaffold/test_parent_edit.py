"""The parent's router gains the new child's downlink in the style its file uses: a line
of a block sequence, or one more item of a flow sequence (the generated national tree
writes each device on one line), and the file still parses to the same data plus it."""

from __future__ import annotations

import yaml

from pesdc.scaffold.parent_edit import apply, downlink_insert

FLOW = (
    "datacenter:\n"
    "  devices:\n"
    '  - {name: rt-1, kind: router, interfaces: [{name: "GE0/0/0", segment: transit}, '
    '{name: "GE0/1/0", downlink: "anhui-01/to-province"}, {name: "GE0/1/1", '
    "downlink: 'anhui-02/to-province'}], ospf: {router_id: 10.12.5.24}}\n"
    '  - {name: rt-2, kind: router, interfaces: [{name: "GE0/0/0", segment: transit}]}\n')

BLOCK = """\
datacenter:
  devices:
    - name: rt-2
      interfaces:
        - {name: GigabitEthernet0/0/4, downlink: zibo/up-shandong}  # zibo
      ospf: {router_id: 10.0.0.2}
"""


def _interfaces(text: str, router: str) -> list[dict]:
    devices = yaml.safe_load(text)["datacenter"]["devices"]
    return next(d for d in devices if d["name"] == router)["interfaces"]


def test_a_flow_sequence_gains_one_item_after_the_last_downlink() -> None:
    ins = downlink_insert(FLOW, {"anhui-01", "anhui-02"}, "xinzhou", "to-province")
    assert ins is not None and ins.what == "rt-1 GE0/1/2: downlink xinzhou/to-province"
    out = apply(FLOW, [ins])
    assert _interfaces(out, "rt-1") == [*_interfaces(FLOW, "rt-1"),
                                        {"name": "GE0/1/2",
                                         "downlink": "xinzhou/to-province"}]
    assert yaml.safe_load(out)["datacenter"]["devices"][0]["ospf"] == {
        "router_id": "10.12.5.24"}
    assert out.count("\n") == FLOW.count("\n")  # the same lines, one of them longer


def test_a_block_sequence_gains_one_line() -> None:
    ins = downlink_insert(BLOCK, {"zibo"}, "weifang", "up-shandong")
    assert ins is not None
    out = apply(BLOCK, [ins])
    assert "        - {name: GigabitEthernet0/0/5, downlink: weifang/up-shandong}\n" in out
    assert "# zibo" in out
    assert _interfaces(out, "rt-2")[-1] == {"name": "GigabitEthernet0/0/5",
                                            "downlink": "weifang/up-shandong"}

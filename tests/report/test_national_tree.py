"""The roll-up over the generated national tree (benchmarks/gen_national.py, scale 0.01:
1 ministry, 31 provinces, 323 cities): static audits of one province and one city
(`pesdc audit TREE --dc CENTER --format json`), every other center without evidence."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from tests.report.conftest import ROOT, pesdc, results_dir
from tests.report.test_national import SCHEMA

pytestmark = pytest.mark.slow


def test_national_tree(tmp_path: Path):
    tree = tmp_path / "national"
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "gen_national.py"), "--out",
                    str(tree), "--scale", "0.01"], check=True, capture_output=True)
    audits = {}
    for dc in ("anhui", "anhui-01"):
        out = tmp_path / f"{dc}.json"
        res = pesdc("audit", str(tree), "--dc", dc, "--format", "json", "-o", str(out))
        assert out.is_file(), res.stderr[-2000:]
        audits[dc] = out
    results = results_dir(tmp_path / "results", audits, {})
    res = pesdc("report", "national", str(results), "--tree", str(tree), "--format", "json")
    assert res.returncode == 0, res.stderr[-2000:]
    data = json.loads(res.stdout)
    jsonschema.validate(data, json.loads(SCHEMA.read_text(encoding="utf-8")))
    [ministry] = data["tree"]
    assert ministry["tier"] == "ministry" and len(ministry["children"]) == 31
    anhui = next(p for p in ministry["children"] if p["name"] == "anhui")
    assert anhui["tier"] == "province" and anhui["audit"]["overall"] is not None
    assert anhui["evidence"] == "partial"  # audited, never verified: not complete
    cities = {c["name"]: c for c in anhui["children"]}
    assert cities["anhui-01"]["audit"] and cities["anhui-01"]["stage"]["declared"]
    assert all(c["tier"] == "city" for c in cities.values())
    others = [c for p in ministry["children"] for c in [p, *p["children"]]
              if c["name"] not in audits and c["evidence"] != "hosted"]
    assert others and all(c["evidence"] == "none" and c["audit"] is None for c in others)
    assert data["counts"]["partial"] == 2

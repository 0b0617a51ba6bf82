"""A device's platform plus model resolve to one OS family; a model no family claims is
a validation error (PLAT001) at the device's line, listing the platform's families."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pesdc.model import validate
from pesdc.platforms import PlatformError, families_of, family_of
from tests.conftest import MINI


def test_each_example_model_has_one_family() -> None:
    for platform in ("huawei_vrp", "huawei_usg", "h3c_comware", "cisco_ios", "linux"):
        assert families_of(platform), platform
    assert family_of("linux", "FRR 8.4 on Debian 12") == "linux"


def test_an_unclaimed_model_names_the_families() -> None:
    with pytest.raises(PlatformError) as err:
        family_of("huawei_vrp", "Z9999")
    message = str(err.value)
    assert "no huawei_vrp family takes model 'Z9999'" in message
    for claim in families_of("huawei_vrp"):
        assert claim.family in message and claim.title in message


def test_validation_points_at_the_device(tmp_path: Path) -> None:
    tree = tmp_path / "mini"
    shutil.copytree(MINI, tree)
    city = tree / "city.yaml"
    old = "core_switch: {platform: huawei_vrp, model: CE6881}"
    text = city.read_text("utf-8")
    assert old in text
    city.write_text(text.replace(old, "core_switch: {platform: huawei_vrp, model: Z9999}"),
                    "utf-8")
    errors = validate([tree]).report.errors
    found = [d for d in errors if d.rule == "PLAT001"]
    assert {d.message.split(":")[0] for d in found} == {"device core-1", "device core-2"}
    assert all("Z9999" in d.message and d.file.endswith("city.yaml") for d in found)
    assert [d for d in errors if d.rule != "PLAT001"] == []

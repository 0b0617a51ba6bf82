"""`lab up`'s refusals of bad options in the run's language. Marked `lab`: `lab up` is
a command that needs root, so these run where the lab tests run (tests/test_selection.py
holds every module naming it to that)."""

from __future__ import annotations

import pytest

from tests.i18n.test_cli_runtime_b import CJK, TREE, assert_chinese, run

pytestmark = pytest.mark.lab


@pytest.mark.parametrize("servers", ["bad", "jinan:a"])
def test_lab_up_bad_servers(servers: str) -> None:
    args = ["lab", "up", TREE, "--dc", "jinan", "--servers", servers]
    code, _, err = run("--lang", "zh", *args)
    assert code == 2
    message = err.splitlines()[-1]
    assert message.startswith("错误：")
    assert_chinese(message)
    _, _, en = run(*args)
    assert en.splitlines()[-1].startswith("Error: ") and not CJK.search(en)

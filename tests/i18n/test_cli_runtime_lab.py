"""`lab up`'s refusals of bad options in the run's language. Marked `lab`: `lab up` is
a command that needs root, so these run where the lab tests run (tests/test_selection.py
holds every module naming it to that)."""

from __future__ import annotations

import pytest

from tests.i18n.test_cli_runtime_b import TREE, assert_usage_error_in_both

pytestmark = pytest.mark.lab


@pytest.mark.parametrize("servers", ["bad", "jinan:a"])
def test_lab_up_bad_servers(servers: str) -> None:
    assert_usage_error_in_both(["lab", "up", TREE, "--dc", "jinan", "--servers", servers])

"""The output scanner the secret tests (and the lab tests) end with."""

from __future__ import annotations

import html
import json
from pathlib import Path

import pytest

from tests.secret_scan import assert_no_secrets, leaks

SECRET = 'Sc4n<&"Secret'
KEY = ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n"
       "-----END OPENSSH PRIVATE KEY-----\n")


def _tree(root: Path) -> Path:
    (root / "deep" / "er").mkdir(parents=True)
    (root / "clean.txt").write_text("nothing to see: %%PESDC_SECRET:pw%%\n")
    return root


@pytest.mark.parametrize("spelled", [SECRET, html.escape(SECRET), json.dumps(SECRET)[1:-1],
                                     html.escape(SECRET, quote=False)])
def test_finds_a_secret_raw_or_escaped_deep_in_the_tree(tmp_path: Path, spelled: str) -> None:
    root = _tree(tmp_path / "out")
    (root / "deep" / "er" / "report.html").write_text(f"<pre>{spelled}</pre>")
    assert leaks([root], {"pw": SECRET}) == [f"{root / 'deep/er/report.html'}: pw"]
    with pytest.raises(AssertionError, match=r"report\.html: pw"):
        assert_no_secrets([root], {"pw": SECRET})


def test_finds_one_line_of_a_cut_private_key(tmp_path: Path) -> None:
    root = _tree(tmp_path / "out")
    (root / "evidence.txt").write_text("b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ (cut)")
    assert leaks([root], {"key": KEY}) == [f"{root / 'evidence.txt'}: key"]


def test_names_the_secret_never_its_value(tmp_path: Path) -> None:
    root = _tree(tmp_path / "out")
    (root / "x.log").write_text(SECRET)
    with pytest.raises(AssertionError) as err:
        assert_no_secrets([root], {"pw": SECRET})
    assert SECRET not in str(err.value) and "x.log: pw" in str(err.value)


def test_clean_outputs_pass_and_links_out_are_not_followed(tmp_path: Path) -> None:
    root = _tree(tmp_path / "out")
    elsewhere = tmp_path / "state-secret"
    elsewhere.write_text(SECRET)
    (root / "link").symlink_to(elsewhere)
    assert assert_no_secrets([root, tmp_path / "missing"], {"pw": SECRET}) == 1


def test_a_scan_of_nothing_or_for_nothing_fails(tmp_path: Path) -> None:
    root = _tree(tmp_path / "out")
    with pytest.raises(AssertionError, match="output file"):
        assert_no_secrets([tmp_path / "empty"], {"pw": SECRET})
    with pytest.raises(AssertionError, match="no secret values"):
        assert_no_secrets([root], {"pw": ""})

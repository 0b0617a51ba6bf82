"""Shared fixtures, and honest test selection (issue 13 point 7).

- A test that brings up a lab or needs root carries the `lab` marker. Without root a lab
  test is skipped here, in one place, and the run then fails, unless the offline subset
  was asked for (PESDC_OFFLINE=1, which `scripts/test.sh --offline` sets): then the lab
  tests are deselected and the summary says they were not run.
- The marker cannot be forgotten: a test not marked `lab` that checks for root (calls
  os.geteuid/os.getuid from test code, also in a module-level skipif, or the helpers
  below) fails, as root too, naming the marker to add.
- A tool scripts/setup.sh installs is required (`require_tool`): missing, the test fails.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Generator
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from tests.shared_labs import SharedLab

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
MINI = FIXTURES / "mini"
TESTS = Path(__file__).resolve().parent
_THIS = str(Path(__file__).resolve())

OFFLINE_ENV = "PESDC_OFFLINE"
MARK_HINT = ("mark it `lab` (a module: `pytestmark = pytest.mark.lab`; a test: "
             "`@pytest.mark.lab`): see tests/conftest.py")
LAB_SKIP = "lab test: needs root, and this is not root"

# The tests read pesdc's English messages: a machine whose locale is zh_CN would
# otherwise run them in Chinese. Tests of the language choice set their own.
os.environ["PESDC_LANG"] = "en"


@pytest.fixture(autouse=True)
def _own_parse_cache(tmp_path_factory: pytest.TempPathFactory,
                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test its own parse cache (pesdc.model.parsecache, under XDG_CACHE_HOME):
    no test reads entries another test, or the user, left."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))


@pytest.fixture
def mini_tree(tmp_path: Path) -> Path:
    """A writable copy of the small valid tree (ministry, province, city, hosted city)."""
    dst = tmp_path / "mini"
    shutil.copytree(MINI, dst)
    return dst


# ---------------------------------------------------------------- helpers for tests


def offline() -> bool:
    return os.environ.get(OFFLINE_ENV, "") not in ("", "0")


def _is_root() -> bool:
    return _real_geteuid() == 0


def _check_marked(what: str) -> None:
    item = _current_item()
    if item is not None and item.get_closest_marker("lab") is None:
        pytest.fail(f"{item.nodeid} {what} but is not marked `lab`: {MARK_HINT}", pytrace=False)


def require_root(why: str = "needs root") -> None:
    """For a `lab` test: skip when not root (the run then fails unless offline)."""
    _check_marked("needs root")
    if not _is_root():
        pytest.skip(f"{LAB_SKIP} ({why})")


def require_lab() -> None:
    """For a `lab` test that brings up a lab: root, and the cached base image."""
    _check_marked("brings up a lab")
    require_root("the lab needs root")
    from pesdc.lab import image

    if not image.is_ready():
        pytest.fail("the lab base image is not built: `pesdc lab image build` "
                    "(scripts/test.sh builds it, ~4 min, cached)", pytrace=False)


@pytest.fixture
def lab_image() -> None:
    """`pytest.mark.usefixtures("lab_image")` on a module of lab tests."""
    require_lab()


@pytest.fixture(scope="session")
def jinan_lab() -> Generator[SharedLab, None, None]:
    """The example city's jinan as one lab for the modules that share it (see
    tests/shared_labs.py): up on first use, down (and checked clean) by the last test
    of tests/verify/test_live_lab.py, else at the end of the session. (Imported here:
    tests/test_selection.py runs a copy of this file outside the tests package.)"""
    from tests.shared_labs import JINAN_LAB, TOPOLOGIES, SharedLab

    lab = SharedLab(JINAN_LAB, [TOPOLOGIES], "jinan")
    yield lab
    if lab.started:
        lab.down()


def require_tool(name: str, where: str = "its Debian package", *,
                 path: str | None = None) -> str:
    """The path of a program scripts/setup.sh installs; the test fails when it is missing."""
    found = shutil.which(name, path=path) if path else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: scripts/setup.sh installs it ({where}); "
                    "run scripts/setup.sh", pytrace=False)
    return found


def unprivileged(argv: list[str]) -> list[str]:
    """argv run as nobody when we are root (as ourselves otherwise). nobody keeps one
    capability, to read and search directories: the venv's interpreter may live under
    root's 0700 home (pyenv); its uid is not 0 and it can write nothing of root's."""
    if not _is_root():
        return argv
    return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
            "--inh-caps=+dac_read_search", "--ambient-caps=+dac_read_search", *argv]


# ---------------------------------------------------------------- enforcement

_real_geteuid = os.geteuid
_real_getuid = os.getuid
_items: list[pytest.Item] = []
_flagged_at_import: set[str] = set()  # test modules that check for root when imported
_lab_skips: list[tuple[str, str]] = []
_lab_deselected: list[str] = []


def _current_item() -> pytest.Item | None:
    return _items[-1] if _items else None


def _test_file(frame: FrameType) -> str | None:
    """The file of the calling frame when it is test code (under tests/, or a test_*.py or
    conftest.py elsewhere), this file excepted; the library's own root checks are not."""
    p = Path(frame.f_code.co_filename).resolve()
    if p.suffix != ".py" or str(p) == _THIS:
        return None
    if p.is_relative_to(TESTS) or p.name.startswith("test_") or p.name == "conftest.py":
        return str(p)
    return None


def _guarded(real: Callable[[], int], name: str) -> Callable[[], int]:
    def check() -> int:
        file = _test_file(sys._getframe(1))
        if file is not None:
            item = _current_item()
            if item is None:
                _flagged_at_import.add(file)
            elif item.get_closest_marker("lab") is None:
                pytest.fail(f"{item.nodeid} checks for root (os.{name}() in {file}) but "
                            f"is not marked `lab`: {MARK_HINT}", pytrace=False)
        return real()

    check.__wrapped__ = real  # type: ignore[attr-defined]
    return check


def pytest_configure(config: pytest.Config) -> None:
    if not any(str(m).startswith("lab:") for m in config.getini("markers")):
        config.addinivalue_line("markers", "lab: needs root (see tests/conftest.py)")
    os.geteuid = _guarded(_real_geteuid, "geteuid")
    os.getuid = _guarded(_real_getuid, "getuid")


def pytest_unconfigure(config: pytest.Config) -> None:
    os.geteuid = _real_geteuid
    os.getuid = _real_getuid


# Labs that several modules share, by the fixture that hands them out: under pytest-xdist
# (scripts/test.sh runs two workers) every test using one runs in the same worker, in
# file order; any other lab test keeps to its module's worker (a module's lab is up once).
SHARED_LAB_FIXTURES = {"lab_up": "tweihai", "provisioned": "tvfy", "jinan_lab": "tjinan"}


def _lab_group(item: pytest.Item) -> str:
    names = getattr(item, "fixturenames", ())
    shared = sorted({lab for fx, lab in SHARED_LAB_FIXTURES.items() if fx in names})
    return "+".join(shared) if shared else f"module:{item.path}"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if config.pluginmanager.hasplugin("xdist"):  # its marker exists only with it
        for item in items:
            if item.get_closest_marker("lab") is not None:
                item.add_marker(pytest.mark.xdist_group(_lab_group(item)))
    if not offline():
        return
    keep, drop = [], []
    for item in items:
        (drop if item.get_closest_marker("lab") else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_deselected(items: list[pytest.Item]) -> None:
    _lab_deselected.extend(i.nodeid for i in items if i.get_closest_marker("lab"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None
                            ) -> Generator[None, object, object]:
    _items.append(item)
    try:
        return (yield)
    finally:
        _items.pop()


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    marked = item.get_closest_marker("lab") is not None
    if not marked and str(item.path.resolve()) in _flagged_at_import:
        pytest.fail(f"{item.nodeid}: its module checks for root when imported (os.geteuid/"
                    f"getuid, e.g. in a skipif) but the test is not marked `lab`: {MARK_HINT}",
                    pytrace=False)
    if marked and not _is_root():
        pytest.skip(LAB_SKIP)


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.skipped and "lab" in report.keywords and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(
            report.longrepr)
        _lab_skips.append((report.nodeid, str(reason).removeprefix("Skipped: ")))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    tr = terminalreporter
    if _lab_deselected:
        how = f"offline subset ({OFFLINE_ENV}=1)" if offline() else "as asked (-m/-k)"
        tr.write_sep("=", f"{how}: {len(_lab_deselected)} lab tests deselected, NOT run",
                     yellow=True, bold=True)
    if _lab_skips:
        tr.write_sep("=", f"{len(_lab_skips)} lab tests did NOT run", red=True, bold=True)
        reasons: dict[str, int] = {}
        for _, reason in _lab_skips:
            reasons[reason] = reasons.get(reason, 0) + 1
        for reason, n in sorted(reasons.items()):
            tr.write_line(f"  {n} skipped: {reason}")
        if offline():
            tr.write_line(f"  ({OFFLINE_ENV}=1: offline subset asked for; not a failure)")
        else:
            tr.write_line("  this run is NOT a pass: run as root (scripts/test.sh), or ask for "
                          f"the offline subset (scripts/test.sh --offline, {OFFLINE_ENV}=1)",
                          red=True, bold=True)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _lab_skips and not offline() and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED

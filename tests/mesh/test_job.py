"""A pesdc job through ``ansible-runner transmit | worker | process``, offline.

The private data directory of a pesdc job, judged by ansible-playbook itself; the pipe
with real ansible-runner ends, the worker in a network namespace of its own with no
route (``unshare --net``: loopback only), so nothing it starts can leave the machine:
what the worker wrote comes back to the controller's side byte for byte; a failing job
comes back failed, a broken stream is an error. The same job inside a center's bastion
in the lab: tests/mesh/test_job_lab.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pesdc.mesh import job as jobmod
from pesdc.mesh.job import JobError, PesdcJob, prepare
from pesdc.mesh.pipe import carry, runner_bin, runner_env, worker_argv
from tests.conftest import ROOT, require_tool
from tests.mesh.conftest import assert_events_intact, task_results

TOPO = str(ROOT / "topologies")


def no_route(argv: list[str]) -> list[str]:
    """argv in a network namespace of its own (loopback only), no root needed."""
    return [require_tool("unshare", "Debian util-linux"), "--net", "--map-root-user", *argv]


def trivial(tmp: Path, tasks: list[dict[str, object]]) -> Path:
    """A private data directory with a one-play playbook of these tasks on localhost."""
    pdd = tmp / "job"
    (pdd / "project").mkdir(parents=True)
    (pdd / "inventory").mkdir()
    play = [{"name": "trivial", "hosts": "localhost", "gather_facts": False,
             "tasks": tasks}]
    (pdd / "project" / "t.yml").write_text(yaml.safe_dump(play))
    (pdd / "inventory" / "hosts.json").write_text(json.dumps({"all": {"hosts": {
        "localhost": {"ansible_connection": "local",
                      "ansible_python_interpreter": sys.executable}}}}))
    return pdd


WRITE = {"name": "write an artifact", "ansible.builtin.shell":
         'printf "\\000\\377binary\\n%s\\n" "$(hostname)" > "$AWX_ISOLATED_DATA_DIR/out.bin"; '
         'ip -o link show; echo done'}


def test_the_private_data_dir_of_a_pesdc_job(tmp_path: Path) -> None:
    pdd = prepare(PesdcJob((TOPO,), "jinan", "hrun", only=("hosts",)), tmp_path / "job")
    assert sorted(str(p.relative_to(pdd)) for p in pdd.rglob("*") if p.is_file()) == [
        "env/extravars", "inventory/hosts.json", f"project/{jobmod.PLAYBOOK}"]
    extra = yaml.safe_load((pdd / "env/extravars").read_text())  # as ansible-runner reads it
    assert extra["pesdc_sources"] == [TOPO] and extra["pesdc_dc"] == "jinan"
    assert extra["pesdc_lab"] == "hrun" and extra["pesdc_parts"] == ["verify", "audit"]
    assert extra["pesdc_verify_only"] == ["--only", "hosts"]
    assert extra["pesdc_argv"][1:] == ["-m", "pesdc"]
    # ansible-playbook itself judges the playbook and the inventory
    res = subprocess.run(
        ["ansible-playbook", "--syntax-check", "-i", str(pdd / "inventory"),
         "-e", f"@{pdd / 'env/extravars'}", str(pdd / "project" / jobmod.PLAYBOOK)],
        capture_output=True, text=True, env=runner_env(), cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    inv = subprocess.run(["ansible-inventory", "-i", str(pdd / "inventory"), "--list"],
                         capture_output=True, text=True, env=runner_env(), cwd=tmp_path)
    assert inv.returncode == 0, inv.stderr
    assert json.loads(inv.stdout)["_meta"]["hostvars"]["localhost"][
        "ansible_connection"] == "local"


def test_a_job_needs_a_new_dir_and_known_parts(tmp_path: Path) -> None:
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x").write_text("")
    with pytest.raises(JobError, match="not empty"):
        prepare(PesdcJob((TOPO,), "jinan", "hrun"), tmp_path / "full")
    with pytest.raises(JobError, match="choose among verify, audit"):
        prepare(PesdcJob((TOPO,), "jinan", "hrun", parts=("apply",)), tmp_path / "a")
    with pytest.raises(JobError, match="topology"):
        prepare(PesdcJob((), "jinan", "hrun"), tmp_path / "b")


def test_what_the_worker_wrote_comes_back_intact(tmp_path: Path) -> None:
    pdd = trivial(tmp_path, [WRITE])
    wdir = tmp_path / "worker"
    got = carry(pdd, "t.yml", ident="j1", process_dir=tmp_path / "ctl",
                worker=no_route(worker_argv(wdir)), record=tmp_path / "stream.jsonl",
                timeout=300)
    assert got.passed and got.status == "successful" and got.rc == 0
    assert got.exits == {"transmit": 0, "worker": 0, "process": 0}
    # the worker's own artifacts (its private data dir, kept) against the controller's
    back = got.artifact_dir
    for name in ("out.bin", "status", "rc", "stdout", "command"):
        assert (back / name).read_bytes() == (wdir / "artifacts/j1" / name).read_bytes(), name
    assert (back / "out.bin").read_bytes().startswith(b"\x00\xffbinary\n")
    assert_events_intact(tmp_path / "stream.jsonl", back)
    res = task_results(back)["write an artifact"]
    assert res["event"] == "runner_on_ok"
    # the worker had loopback only: nothing it started could leave the machine
    links = str(res["stdout"]).splitlines()[:-1]
    assert [ln.split(":")[1].strip() for ln in links] == ["lo"], links


def test_no_secret_of_the_controller_travels_with_the_job(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = "s3cr3t-f0r-the-test-only"
    monkeypatch.setenv("PESDC_SECRET_NETPUSH_PASSWORD", secret)
    monkeypatch.setenv("PESDC_VAULT_PASSWORD_FILE", f"/nonexistent/{secret}")
    pdd = trivial(tmp_path, [WRITE])
    got = carry(pdd, "t.yml", ident="j7", process_dir=tmp_path / "ctl",
                worker=no_route(worker_argv(tmp_path / "w")), record=tmp_path / "s",
                timeout=300)
    assert got.passed
    command = json.loads((got.artifact_dir / "command").read_text())
    assert "PATH" in command["env"]  # the worker's environment is in the artifacts...
    for place in [tmp_path / "s", *(p for d in (tmp_path / "ctl", tmp_path / "w")
                                     for p in d.rglob("*") if p.is_file())]:
        assert secret.encode() not in place.read_bytes(), place  # ...its secrets are not


def test_without_recording_the_stream_goes_straight_through(tmp_path: Path) -> None:
    pdd = trivial(tmp_path, [WRITE])
    got = carry(pdd, "t.yml", ident="j2", process_dir=tmp_path / "ctl",
                worker=no_route(worker_argv(tmp_path / "w")), timeout=300)
    assert got.passed and got.stream is None
    assert (got.artifact_dir / "out.bin").read_bytes() == \
        (tmp_path / "w/artifacts/j2/out.bin").read_bytes()
    assert list((got.artifact_dir / "job_events").glob("*.json"))


def test_a_failing_job_comes_back_failed(tmp_path: Path) -> None:
    pdd = trivial(tmp_path, [WRITE, {"name": "a broken check",
                                     "ansible.builtin.command": "false"}])
    got = carry(pdd, "t.yml", ident="j3", process_dir=tmp_path / "ctl",
                worker=no_route(worker_argv(tmp_path / "w")), record=tmp_path / "s",
                timeout=300)
    assert not got.passed and got.status == "failed" and got.rc == 2
    assert got.exits["worker"] == 2  # the worker exits with its job's rc
    assert task_results(got.artifact_dir)["a broken check"]["event"] == "runner_on_failed"
    assert (got.artifact_dir / "out.bin").is_file()  # what it wrote before still comes back
    assert_events_intact(tmp_path / "s", got.artifact_dir)


def test_the_pesdc_job_of_a_lab_not_up_comes_back_failed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PESDC_STATE_DIR", str(tmp_path / "state"))  # no lab is up there
    pdd = prepare(PesdcJob((TOPO,), "jinan", "nosuchlab"), tmp_path / "job")
    got = carry(pdd, jobmod.PLAYBOOK, ident="j4", process_dir=tmp_path / "ctl",
                worker=no_route(worker_argv(tmp_path / "w")), record=tmp_path / "s",
                timeout=600)
    assert not got.passed and got.status == "failed"
    res = task_results(got.artifact_dir)
    # both parts ran, each failed with pesdc's own message, and the job's verdict failed
    for task in ("Verify the center (JUnit into the artifacts)",
                 "Audit the center (JSON report into the artifacts)"):
        assert res[task]["rc"] != 0, res[task]
        assert "nosuchlab" in str(res[task]["stderr"]) and "Traceback" not in str(
            res[task]["stderr"]), res[task]["stderr"]
    assert res["The job passes only when every part passed"]["event"] == "runner_on_failed"
    assert_events_intact(tmp_path / "s", got.artifact_dir)


def test_a_worker_that_is_not_one_is_an_error(tmp_path: Path) -> None:
    pdd = trivial(tmp_path, [WRITE])
    with pytest.raises(JobError, match="did not come back"):
        carry(pdd, "t.yml", ident="j5", process_dir=tmp_path / "ctl",
              worker=["sh", "-c", "cat > /dev/null; echo '{\"status\": \"successful\"}'"],
              timeout=120)
    with pytest.raises(JobError, match="exited 3"):
        carry(pdd, "t.yml", ident="j6", process_dir=tmp_path / "ctl2",
              worker=["sh", "-c", "cat > /dev/null; exit 3"], timeout=120)


def test_ansible_runner_is_the_installed_one() -> None:
    res = subprocess.run([runner_bin(), "--version"], capture_output=True, text=True)
    major, minor = (int(x) for x in res.stdout.split(".")[:2])
    assert (major, minor) >= (2, 4)

"""The lab's base image: a clean Debian rootfs plus a local apt repository layer.

Built once through the Debian registry and cached; lab hosts stack an overlay on top
(``lowerdir=repo:base``), so every host starts clean and installs inside a host are
real apt installs from the local repository, never touching the machine.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from pesdc.i18n import N_
from pesdc.lab.errors import LabError
from pesdc.lab.paths import cache_dir
from pesdc.localized import LocalizedText

SUITE = "bookworm"
MIRROR = os.environ.get("PESDC_DEBIAN_MIRROR", "http://deb.debian.org/debian")
# In the base rootfs: what every lab host needs to be a managed server.
BASE_PACKAGES = (
    "openssh-server", "python3", "python3-apt", "sudo", "iproute2", "iputils-ping",
    "netcat-openbsd", "procps", "ca-certificates", "locales", "less",
)
# In the local repository: what the server roles install (and their dependencies).
ROLE_PACKAGES = (
    "chrony", "rsyslog", "auditd", "libpam-pwquality", "logrotate", "cron",
    "postgresql", "postgresql-client", "nginx", "ssl-cert", "rsync", "openssl",
    "python3-psycopg2", "acl", "lynis", "openscap-scanner", "ssg-debian",
)
REPO_DIR_IN_HOST = "/opt/pesdc-repo"


@dataclass
class ImagePaths:
    root: Path

    @property
    def base(self) -> Path:
        return self.root / "base"

    @property
    def repo_layer(self) -> Path:
        return self.root / "repo-layer"

    @property
    def stamp(self) -> Path:
        return self.root / "image.json"


def image_paths() -> ImagePaths:
    return ImagePaths(cache_dir() / "images" / f"{SUITE}-minbase")


def _recipe_id() -> str:
    blob = json.dumps([SUITE, BASE_PACKAGES, ROLE_PACKAGES]).encode()
    return hashlib.sha256(blob).hexdigest()[:12]


def status() -> dict[str, object]:
    p = image_paths()
    if not p.stamp.is_file():
        return {"built": False, "path": str(p.root)}
    info = json.loads(p.stamp.read_text())
    info["current"] = info.get("recipe") == _recipe_id()
    info["path"] = str(p.root)
    return info


def is_ready() -> bool:
    st = status()
    return bool(st.get("built")) and bool(st.get("current"))


def _run(cmd: list[str], what: str, **kw: object) -> None:
    res = subprocess.run(cmd, capture_output=True, text=True, **kw)  # type: ignore[call-overload]
    if res.returncode != 0:
        tail = (res.stderr or res.stdout or "").strip().splitlines()[-15:]
        raise LabError(f"{what} failed (exit {res.returncode}):\n  " + "\n  ".join(tail))


def _chroot(root: Path, *cmd: str) -> list[str]:
    return ["chroot", str(root), "/usr/bin/env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
            "DEBIAN_FRONTEND=noninteractive", "LC_ALL=C", *cmd]


class _Mounted:
    """/proc and /dev inside a chroot for apt, always unmounted again."""

    def __init__(self, root: Path):
        self.root = root
        self.points: list[Path] = []

    def __enter__(self) -> _Mounted:
        for src, dst, opts in (("proc", "proc", ["-t", "proc"]),
                               ("/dev", "dev", ["--bind"])):
            target = self.root / dst
            target.mkdir(exist_ok=True)
            _run(["mount", *opts, src, str(target)], f"mount {dst}")
            self.points.append(target)
        return self

    def __exit__(self, *exc: object) -> None:
        for target in reversed(self.points):
            subprocess.run(["umount", "-l", str(target)], capture_output=True)


def build(force: bool = False, log: object = print) -> dict[str, object]:
    """debootstrap the base, then download the role packages into a repository layer."""
    if os.geteuid() != 0:
        raise LabError(N_("building the lab image needs root (debootstrap, chroot, mount)"))
    for tool in ("debootstrap", "apt-ftparchive", "chroot"):
        if not shutil.which(tool):
            raise LabError(N_("{tool} is missing: run scripts/setup.sh (installs debootstrap, "
                              "apt-utils)"), tool=tool)
    p = image_paths()
    if is_ready() and not force:
        return status()
    started = time.monotonic()
    bootstrapped = p.root / ".debootstrap-done"  # the slow step is kept across retries
    if force or not bootstrapped.is_file():
        if p.root.exists():
            shutil.rmtree(p.root)
        p.root.mkdir(parents=True)
        log(LocalizedText(N_("debootstrap {suite} (minbase) from {mirror} ..."),  # type: ignore[operator]
                          suite=SUITE, mirror=MIRROR))
        _run(["debootstrap", "--variant=minbase", f"--include={','.join(BASE_PACKAGES)}",
              SUITE, str(p.base), MIRROR], "debootstrap")
        bootstrapped.write_text(time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()))
    shutil.rmtree(p.repo_layer, ignore_errors=True)
    (p.base / "etc/apt/sources.list").write_text(
        f"deb {MIRROR} {SUITE} main\ndeb {MIRROR} {SUITE}-updates main\n")
    # The build resolves through the machine's resolver; lab hosts get none (below).
    (p.base / "etc/resolv.conf").unlink(missing_ok=True)
    shutil.copy("/etc/resolv.conf", p.base / "etc/resolv.conf")
    (p.base / "etc/hosts").write_text("127.0.0.1 localhost\n::1 localhost\n")
    # Every lab host makes its own host key: none may come from the shared image.
    for key in (p.base / "etc/ssh").glob("ssh_host_*"):
        key.unlink()
    # Services must not start inside the chroot while packages install.
    policy = p.base / "usr/sbin/policy-rc.d"
    policy.write_text("#!/bin/sh\nexit 101\n")
    policy.chmod(0o755)
    log(LocalizedText(N_("downloading role packages into the local repository ...")))  # type: ignore[operator]
    with _Mounted(p.base):
        _run(_chroot(p.base, "apt-get", "update", "-qq"), "apt-get update in the image")
        _run(_chroot(p.base, "apt-get", "install", "-y", "-qq", "--download-only",
                     "--no-install-recommends", *ROLE_PACKAGES),
             "downloading role packages")
    repo = p.repo_layer / REPO_DIR_IN_HOST.lstrip("/")
    repo.mkdir(parents=True)
    archives = p.base / "var/cache/apt/archives"
    for deb in sorted(archives.glob("*.deb")):
        shutil.move(str(deb), repo / deb.name)
    packages = subprocess.run(["apt-ftparchive", "packages", "."], cwd=repo,
                              capture_output=True, text=True, check=True).stdout
    (repo / "Packages").write_text(packages)
    # The repository layer also replaces the image's sources: only the local repo.
    apt_dir = p.repo_layer / "etc/apt"
    (apt_dir / "sources.list.d").mkdir(parents=True)
    (apt_dir / "sources.list").write_text("# lab host: packages come from the local "
                                          "repository only\n")
    (apt_dir / "sources.list.d/pesdc-lab.list").write_text(
        f"deb [trusted=yes] file:{REPO_DIR_IN_HOST} ./\n")
    # Package lists for the local repo are prepared once here, not on every host.
    with _Mounted(p.base):
        shutil.copytree(p.repo_layer / "opt", p.base / "opt", dirs_exist_ok=True)
        (p.base / "etc/apt/sources.list").write_text("")
        shutil.copy(apt_dir / "sources.list.d/pesdc-lab.list",
                    p.base / "etc/apt/sources.list.d/pesdc-lab.list")
        _run(_chroot(p.base, "apt-get", "update", "-qq"), "apt-get update (local repo)")
        shutil.rmtree(p.base / "opt/pesdc-repo")
    _run(_chroot(p.base, "apt-get", "clean"), "apt-get clean")
    # Lab hosts have no route out: name lookups must fail at once, not hang.
    (p.base / "etc/resolv.conf").unlink()
    (p.base / "etc/resolv.conf").write_text("# lab host: no DNS\n")
    n_debs = len(list(repo.glob("*.deb")))
    info = {"built": True, "recipe": _recipe_id(), "suite": SUITE,
            "built_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "seconds": round(time.monotonic() - started, 1), "repo_packages": n_debs}
    p.stamp.write_text(json.dumps(info, indent=2))
    return status()

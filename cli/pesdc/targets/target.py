"""What a connecting command works on: a lab (``--lab NAME``) or a live center through
its bastion (``--live PROFILE``). Nothing else: without one of them a command refuses.

Both kinds give the engines the same things: an OpenSSH configuration that every tool
reads (pyinfra and netmiko through paramiko, ansible-playbook, testinfra and the
audit's collector through OpenSSH), the key to log in with, the known_hosts file that
is checked strictly, the accounts each class of host takes, and, for a live center, a
way through the bastion for anything that is not SSH (the journal's syslog copy).

A live center's configuration is generated from the profile on every run into the
state directory: the bastion as ``pesdc-bastion`` (one multiplexed connection,
``ControlMaster``), every host of the center as ``Host NAME.CENTER NAME ADDRESS`` with
``ProxyCommand ssh -F THIS -W %h:%p pesdc-bastion`` (so paramiko-based tools ride the
same multiplexed bastion connection as OpenSSH ones), the pinned known_hosts with
``StrictHostKeyChecking yes``, and the user's own ssh_config last, for what pesdc
leaves unset.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shlex
import subprocess
import tempfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pesdc.lab.paths import state_dir
from pesdc.model.schema import DataCenter
from pesdc.model.tree import Topology
from pesdc.targets import hostkeys
from pesdc.targets.profile import Profile, ProfileError, check_against, load_profile

BASTION_ALIAS = "pesdc-bastion"


class TargetError(Exception):
    """The target cannot be used (no profile, no lab, the bastion refuses ...)."""


@dataclass(frozen=True)
class Endpoint:
    """One host or device of the center as pesdc connects to it."""

    name: str
    address: str
    host: str  # NAME.CENTER
    klass: str  # servers | devices | linux_gear


@dataclass
class Target:
    kind: str  # "lab" | "live"
    center: str
    lab: str | None  # the lab whose hosts these are (a lab run, or a rehearsal profile)
    ssh_config: Path
    identity: Path | None
    known_hosts: Path
    users: dict[str, list[str]]
    label: str
    profile: Profile | None = None
    profile_path: Path | None = None
    hop_user: str | None = None
    bastion_address: str | None = None
    bastion_name: str | None = None
    timeout: int = 10
    parallel: int = 8
    endpoints: dict[str, Endpoint] = field(default_factory=dict)

    @property
    def live(self) -> bool:
        return self.kind == "live"

    # -- what the engines need ---------------------------------------------------------
    def server_users(self) -> list[str]:
        return list(self.users["servers"])

    def gear_users(self, linux: bool) -> list[str]:
        return list(self.users["linux_gear" if linux else "devices"])

    def proxy_argv(self, address: str, port: int = 22) -> list[str] | None:
        """A stdio stream to address:port through the bastion; None: reach it directly."""
        if not self.live:
            return None
        return ["ssh", "-F", str(self.ssh_config), "-W", f"{address}:{port}", BASTION_ALIAS]

    tunnel_argv = proxy_argv  # the journal's name for it

    def sock(self, address: str, port: int = 22) -> Any:
        """A paramiko socket to address:port (through the bastion), or None (direct)."""
        argv = self.proxy_argv(address, port)
        if argv is None:
            return None
        import paramiko

        return paramiko.ProxyCommand(shlex.join(argv))

    def bastion_argv(self, command: str) -> list[str]:
        """Run a shell command on the bastion itself (the live center's lock lives
        there: every operator reaches the center through it)."""
        if not self.live:
            raise TargetError("a lab run has no bastion lock: it holds a local lock")
        return ["ssh", "-F", str(self.ssh_config), BASTION_ALIAS, command]

    def ssh_extra(self) -> list[str]:
        """Options for an OpenSSH client reaching a host of this target."""
        return ["-F", str(self.ssh_config)]

    def check_keys(self, endpoints: Iterable[Endpoint]) -> dict[str, str]:
        """Live: each host's key read through the bastion and compared with the pinned
        file before anything logs in; name -> why it must not be connected to. A lab's
        keys are the lab's own, checked by every client: nothing to add."""
        if not self.live:
            return {}
        pinned = hostkeys.read_pinned(self.known_hosts)
        eps = list(endpoints)

        def one(ep: Endpoint) -> tuple[str, str | None]:
            try:
                seen = hostkeys.scan(ep.address, 22, lambda: self.sock(ep.address, 22),
                                     self.timeout)
            except hostkeys.ScanError as exc:
                return ep.name, f"{ep.name} ({ep.address}): host key not readable " \
                                f"through the bastion: {exc}"
            problem = hostkeys.compare(ep.name, seen, pinned)
            return ep.name, problem.message() if problem else None

        with ThreadPoolExecutor(max_workers=self.parallel) as pool:
            found = dict(pool.map(one, eps))
        return {n: why for n, why in found.items() if why}


# -- the lab kind ----------------------------------------------------------------------
def lab_target(topo: Topology, center: str, lab: str) -> Target:
    from pesdc.lab.enter import access
    from pesdc.lab.errors import LabError

    try:
        acc = access(lab)
    except LabError as exc:
        raise TargetError(str(exc)) from None
    return Target("lab", center, lab, acc.ssh_config, acc.identity, acc.known_hosts,
                  {"servers": ["pesdc", "root"], "devices": ["root"],
                   "linux_gear": ["root"]}, f"lab {lab}",
                  endpoints=endpoints_of(topo.datacenters[center]))


# -- the live kind ---------------------------------------------------------------------
def endpoints_of(dc: DataCenter, stand_ins: bool = False) -> dict[str, Endpoint]:
    """Every server and network device of the center with its management address."""
    from pesdc.platforms import kind_of

    out = {s.name: Endpoint(s.name, s.address, f"{s.name}.{dc.name}", "servers")
           for s in dc.servers}
    for d in dc.devices:
        linux = stand_ins or kind_of(d).name.startswith("linux")
        out[d.name] = Endpoint(d.name, d.mgmt, f"{d.name}.{dc.name}",
                               "linux_gear" if linux else "devices")
    return out


def _control_dir(key: str) -> Path:
    """ControlPath sockets: a short path (a UNIX socket path has ~104 bytes), private,
    and one per network namespace: a master opened from elsewhere (a lab's controller
    namespace, which reaches every host) must never carry this run's connections."""
    with contextlib.suppress(OSError):
        key += ":" + os.readlink("/proc/self/ns/net")
    d = Path(tempfile.gettempdir()) / f"pesdc-{os.getuid()}" / \
        hashlib.sha256(key.encode()).hexdigest()[:10]
    d.mkdir(parents=True, exist_ok=True)
    os.chmod(d.parent, 0o700)
    os.chmod(d, 0o700)
    return d


def ssh_config_text(prof: Profile, base: Path, endpoints: dict[str, Endpoint],
                    hop_user: str, config_path: Path, known_hosts: Path,
                    control: Path) -> str:
    """The OpenSSH configuration of a live run (see the module's docstring)."""
    b = prof.bastion
    ident = [f"  IdentityFile {prof.resolve(base, b.identity_file)}", "  IdentitiesOnly yes"] \
        if b.identity_file else []
    common = [f"  UserKnownHostsFile {known_hosts}", "  StrictHostKeyChecking yes",
              "  GlobalKnownHostsFile /dev/null", "  HashKnownHosts no",
              "  UpdateHostKeys no", "  CheckHostIP no", "  BatchMode yes",
              "  ForwardAgent no", "  ForwardX11 no", f"  ConnectTimeout {prof.timeouts.connect}",
              "  ServerAliveInterval 15", "  ServerAliveCountMax 3",
              "  ControlMaster auto", f"  ControlPath {control}/%C", "  ControlPersist 120s"]
    out = [f"# pesdc: center {prof.center} through its bastion {b.server}; generated from "
           "the connection profile on every run, do not edit.", "",
           f"Host {BASTION_ALIAS}", f"  HostName {b.address}", f"  Port {b.port}",
           f"  User {hop_user}", *ident, *common, ""]
    proxy = f"ssh -F {config_path} -W %h:%p {BASTION_ALIAS}"
    for ep in sorted(endpoints.values(), key=lambda e: e.name):
        out += [f"Host {ep.host} {ep.name} {ep.address}", f"  HostName {ep.address}",
                f"  User {prof.users.model_dump()[ep.klass][0]}", f"  ProxyCommand {proxy}",
                *ident, *common, ""]
    if prof.ssh_config:
        own = prof.resolve(base, prof.ssh_config)
        if own.is_file():
            out += ["# the user's own configuration, for what pesdc leaves unset",
                    "Match all", f"  Include {own}", ""]
    return "\n".join(out)


def _write_config(prof: Profile, base: Path, endpoints: dict[str, Endpoint], hop_user: str,
                  known_hosts: Path) -> Path:
    d = state_dir() / "targets" / prof.center
    d.mkdir(parents=True, exist_ok=True)
    os.chmod(d, 0o700)
    path = d / "ssh_config"
    control = _control_dir(f"{state_dir()}:{prof.center}:{hop_user}")
    text = ssh_config_text(prof, base, endpoints, hop_user, path, known_hosts, control)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def _hop_user(prof: Profile, base: Path, endpoints: dict[str, Endpoint],
              known_hosts: Path, timeout: int) -> str:
    """The first bastion account that accepts us (its multiplexed connection stays up
    for the run). The bastion's key is checked against the pinned file first."""
    problems = []
    for user in prof.bastion.users:
        cfg = _write_config(prof, base, endpoints, user, known_hosts)
        proc = subprocess.run(["ssh", "-F", str(cfg), BASTION_ALIAS, "true"],
                              capture_output=True, text=True, timeout=timeout + 20,
                              stdin=subprocess.DEVNULL, check=False)
        if proc.returncode == 0:
            return user
        err = proc.stderr.strip().splitlines()
        why = next((ln for ln in err if "REMOTE HOST IDENTIFICATION HAS CHANGED" in ln
                    or "Host key verification failed" in ln or "No route" in ln
                    or "timed out" in ln or "refused" in ln), err[-1] if err else "")
        problems.append(f"{user}: {why or f'ssh exited {proc.returncode}'}")
        if "Host key" in why or "IDENTIFICATION" in why or "No route" in why \
                or "timed out" in why or "refused" in why:
            break  # not an account problem: another account will not help
    raise TargetError(f"cannot log in to the bastion {prof.bastion.server} "
                      f"({prof.bastion.address}:{prof.bastion.port}): "
                      + "; ".join(problems))


def live_target(topo: Topology, profile_path: Path, center: str | None = None,
                connect: bool = True) -> Target:
    """The live target of a profile: its configuration written, the bastion logged in
    to (``connect``), the bastion's key checked against the pinned file."""
    try:
        prof = load_profile(profile_path)
    except ProfileError:
        raise
    problems = check_against(prof, topo, profile_path)
    if problems:
        raise ProfileError(problems)
    if center is not None and center != prof.center:
        raise TargetError(f"the profile {profile_path} is for {prof.center}, not {center}")
    base = profile_path.resolve().parent
    known = prof.resolve(base, prof.known_hosts)
    dc = topo.datacenters[prof.center]
    eps = endpoints_of(dc, stand_ins=prof.stand_ins is not None)
    if connect:
        if not hostkeys.read_pinned(known):
            raise TargetError(f"no pinned host keys in {known}: run `pesdc targets trust "
                              f"{profile_path} TOPOLOGY` first, and review what it shows")
        hop = _hop_user(prof, base, eps, known, prof.timeouts.connect)
    else:
        hop = prof.bastion.users[0]
    cfg = _write_config(prof, base, eps, hop, known)
    ident = prof.resolve(base, prof.bastion.identity_file) if prof.bastion.identity_file \
        else None
    label = f"live via bastion {prof.bastion.server} ({prof.bastion.address})" + (
        f", the stand-ins of lab {prof.stand_ins}" if prof.stand_ins else "")
    return Target("live", prof.center, prof.stand_ins, cfg, ident, known,
                  prof.users.model_dump(), label, prof, profile_path, hop,
                  prof.bastion.address, prof.bastion.server, prof.timeouts.connect,
                  prof.parallel, eps)


def close(target: Target) -> None:
    """End the multiplexed bastion connection of a live run."""
    if target.live:
        subprocess.run(["ssh", "-F", str(target.ssh_config), "-O", "exit", BASTION_ALIAS],
                       capture_output=True, timeout=10, check=False)

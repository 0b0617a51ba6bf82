"""Bring a lab plan up on this machine, check it, and take it down without a trace.

- servers: a network namespace plus ``unshare --mount --uts --pid`` over an overlayfs
  root (``lowerdir=repo-layer:base``), chroot, sshd as PID 1: own filesystem, hostname
  and process table; the overlay mount lives only in that mount namespace.
- firewalls/gatekeepers: a namespace with the rendered nftables ruleset, forwarding on.
- routers: a namespace with FRR (``-N`` pathspace) and an sshd whose ForceCommand is
  vtysh, so netmiko drives it as ``cisco_ios``.
- switches and appliances: their management port only (the bridges are the switches).
- sites: a namespace per site behind a veth link shaped with its bandwidth and latency.
- the controller: a namespace on the management segment; every lab client runs there.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pesdc.i18n import N_
from pesdc.lab import netns, operator
from pesdc.lab.errors import LabError
from pesdc.lab.image import image_paths, is_ready
from pesdc.lab.paths import lab_dir
from pesdc.lab.plan import LabPlan, Node, short_hash
from pesdc.localized import LocalizedText as T
from pesdc.progress import Progress, or_none

SSHD = "/usr/sbin/sshd"
FRR_BIN = Path("/usr/lib/frr")
FRR_DAEMONS = ("zebra", "staticd", "ospfd")
Log = Callable[[str], None]


def require_root() -> None:
    if os.geteuid() != 0:
        raise LabError(N_("the lab needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN) to create "
                          "network namespaces and mounts: run it as root (sudo pesdc lab "
                          "...)"))
    for tool in ("ip", "nft", "unshare", "nsenter", "tc", "ssh-keygen", SSHD):
        if not shutil.which(tool):
            raise LabError(N_("{tool} is missing: run scripts/setup.sh"), tool=tool)


@dataclass
class NodeState:
    name: str
    netns: str
    role: str
    host: str
    mgmt: str | None
    pid: int | None = None
    # What the node was started with (its rendered gear configuration and plan): a
    # change makes `up` restart the node, so re-running `up` converges.
    config_sha: str | None = None
    alias: bool = False  # shares another node's namespace: nothing of its own to stop

    def alive(self) -> bool:
        return self.pid is None or not netns.gone(self.pid)


class Lab:
    """One lab on this machine, by name; its files live in ``lab_dir(name)``."""

    def __init__(self, name: str):
        self.name = name
        self.dir = lab_dir(name)
        self.ssh_dir = self.dir / "ssh"
        self._live_ns: set[str] = set()

    # -- state -----------------------------------------------------------------------
    @property
    def state_file(self) -> Path:
        return self.dir / "state.json"

    def load_state(self) -> dict[str, Any]:
        if not self.state_file.is_file():
            return {}
        return json.loads(self.state_file.read_text())

    def save_state(self, state: dict[str, Any]) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2, sort_keys=True))
        tmp.replace(self.state_file)

    def nodes(self) -> dict[str, NodeState]:
        return {n: NodeState(**v) for n, v in self.load_state().get("nodes", {}).items()}

    def exists(self) -> bool:
        return self.state_file.is_file()

    # -- keys ------------------------------------------------------------------------
    def _ensure_keys(self) -> None:
        self.ssh_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.ssh_dir, 0o700)
        (self.ssh_dir / "cm").mkdir(exist_ok=True)
        key = self.ssh_dir / "id_ed25519"
        if not key.is_file():
            netns.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C",
                       f"pesdc-lab-{self.name}", "-f", str(key)])
        shutil.copy(key.with_suffix(".pub"), self.ssh_dir / "authorized_keys")

    def _host_key(self, node: str) -> Path:
        """The node's host key, generated once. Nodes start in parallel and the ssh
        files are written meanwhile: two callers for one node must not both run
        ssh-keygen (the second one asks "Overwrite (y/n)?" and fails), so the key is
        made under a lock, aside, and renamed in (public half first)."""
        d = self.dir / "nodes" / node
        d.mkdir(parents=True, exist_ok=True)
        key = d / "ssh_host_ed25519_key"
        with open(d / ".keygen.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # threads and processes alike
            if not key.is_file():
                tmp = Path(tempfile.mkdtemp(prefix=".keygen-", dir=d))
                try:
                    netns.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", node,
                               "-f", str(tmp / "k")])
                    os.replace(tmp / "k.pub", key.with_suffix(".pub"))
                    os.replace(tmp / "k", key)
                finally:
                    shutil.rmtree(tmp, ignore_errors=True)
        return key

    def _write_ssh_files(self, plan: LabPlan) -> None:
        known, config = [], [
            f"# pesdc lab {self.name}: host keys are checked against the lab's known_hosts",
            "Host *",
            "  User root",
            f"  IdentityFile {self.ssh_dir / 'id_ed25519'}",
            "  IdentitiesOnly yes",
            f"  UserKnownHostsFile {self.ssh_dir / 'known_hosts'}",
            "  StrictHostKeyChecking yes",
            "  ControlMaster auto",
            f"  ControlPath {self.ssh_dir / 'cm'}/%C",
            "  ControlPersist 120s",
            "  ConnectTimeout 5",
            "  ServerAliveInterval 10",
            "",
        ]
        for node in plan.nodes.values():
            if node.role in ("site", "controller") or not node.mgmt:
                continue
            pub = (self._host_key(node.name).with_suffix(".pub")).read_text().split()
            known.append(f"{node.host},{node.mgmt} {pub[0]} {pub[1]}")
            config += [f"Host {node.host} {node.name}", f"  HostName {node.mgmt}",
                       f"  HostKeyAlias {node.host}", ""]
        (self.ssh_dir / "known_hosts").write_text("\n".join(known) + "\n")
        (self.ssh_dir / "ssh_config").write_text("\n".join(config))

    # -- bring up --------------------------------------------------------------------
    def up(self, plan: LabPlan, sources: list[str], log: Log,
           progress: Progress | None = None) -> dict[str, Any]:
        """Bring every node of the plan up (or leave it, when it runs as planned);
        ``progress`` hears of each node."""
        require_root()
        say = or_none(progress)
        has_servers = any(n.role == "server" for n in plan.nodes.values())
        if has_servers and not is_ready():
            raise LabError(N_("the lab base image is not built: run `pesdc lab image build` "
                              "(once; it is cached)"))
        started = time.monotonic()
        state = self.load_state()
        if state and state.get("dc") != plan.dc.name:
            raise LabError(N_("lab {name!r} already runs center {dc}; take it down first or "
                              "use --name"), name=self.name, dc=state.get("dc"))
        self._ensure_keys()
        self._write_ssh_files(plan)
        configs = plan.gear()
        self._write_gear(configs)
        nodes_state = self.nodes()
        self._live_ns = netns.existing()
        netns.create(plan.switch_ns)
        for bridge in plan.bridges.values():
            netns.add_bridge(plan.switch_ns, bridge)
        repaired = created = 0
        # Network gear first: servers' sshd must be reachable through the firewalls.
        order = sorted(plan.nodes.values(), key=lambda n: (
            {"firewall": 0, "router": 1, "peer": 1, "site": 2, "mgmt": 3, "server": 4,
             "controller": 5}[n.role], n.name))
        say.start(len([n for n in order if n.alias_of is None]),
                  T(N_("lab {name} up: {count} nodes of {center}"), name=self.name,
                    count=len(order), center=plan.dc.name))
        for node in order:
            old = nodes_state.get(node.key)
            if node.alias_of is not None:  # lives in another node's namespace
                nodes_state[node.key] = NodeState(node.name, node.netns, node.role, node.host,
                                                  node.mgmt, alias=True)
                continue
            label = f"{plan.dc.name}/{node.name}"
            sha = _node_sha(node, configs.get(node.name, {}))
            if old is not None and old.netns == node.netns and old.config_sha == sha and \
                    self._healthy(plan, node, old):
                say.step(label, _node_step(node.role), T(N_("ok: running as planned")))
                continue
            say.begin(label, _node_step(node.role))
            if old is not None:
                repaired += 1
                self._stop_node(old)
            else:
                created += 1
            nodes_state[node.key] = self._start_node(plan, node, configs.get(node.name, {}))
            nodes_state[node.key].config_sha = sha
            self.save_state(self._state_dict(plan, sources, nodes_state))
            say.step(label, _node_step(node.role), T(N_("ok: repaired")) if old is not None
                     else T(N_("ok: created")))
        self._ensure_links(plan)
        for node in plan.nodes.values():  # routes need every interface in place
            if node.role == "router":
                continue  # FRR installs the router's routes from its frr.conf
            netns.batch(node.netns, [f"route replace {p} via {v}" for p, v in node.routes])
        say.note(f"lab {self.name}: waiting for sshd on every node")
        self._wait_ssh(plan, log)
        say.note(f"lab {self.name}: waiting for the routers' routes")
        self._wait_routed(plan, log)
        state = self._state_dict(plan, sources, nodes_state)
        # The engineer's workstation outside the center: a route to the bastion only.
        state["operator"] = operator.ensure(plan, state.get("operator"))
        self.save_state(state)
        return {"created": created, "repaired": repaired, "nodes": len(plan.nodes),
                "seconds": round(time.monotonic() - started, 2)}

    def _wait_routed(self, plan: LabPlan, log: Log, timeout: float = 60) -> None:
        """Until every router of the center routes every municipal site: the lab is up
        when OSPF has converged, not when FRR has started (a verify or probe run at once
        would read a route still missing as a fault)."""
        sites = [s.subnet for s in plan.lab_dc.sites if s.subnet]
        routers = [n for n in plan.nodes.values() if n.role == "router" and
                   n.device is not None and n.device.ospf is not None]

        def missing() -> list[str]:
            out = []
            for node in routers:  # one read of each router's table, not one per site
                res = subprocess.run(["ip", "-n", node.netns, "route", "show"],
                                     capture_output=True, text=True)
                have = {line.split()[0] for line in res.stdout.splitlines() if line}
                out += [f"{node.name}: {p}" for p in sites if p not in have]
            return out

        deadline = time.monotonic() + timeout
        gone = missing()
        while gone and time.monotonic() < deadline:
            time.sleep(0.5)
            gone = missing()
        if gone:
            raise LabError(N_("lab {name}: the routers do not route every site after {seconds} s "
                              "(OSPF): {sites}"), name=self.name,
                           seconds=f"{timeout:.0f}", sites=", ".join(gone[:8]))

    def _links_healthy(self, plan: LabPlan) -> bool:
        pid = self.load_state().get("delayline_pid")
        if pid is None or not NodeState("", "", "", "", None, pid).alive():
            return not plan.links
        present: dict[str, set[str]] = {}

        def has(node: str, ifname: str) -> bool:
            ns = plan.nodes[node].netns
            if ns not in present:
                present[ns] = netns.links(ns)
            return ifname in present[ns]

        return all(has(lk.a_node, lk.a_if) and has(lk.b_node, lk.b_if) for lk in plan.links)

    def _ensure_links(self, plan: LabPlan) -> None:
        """Municipal links through the delay line (latency) with tbf (bandwidth)."""
        if self._links_healthy(plan):
            return
        state = self.load_state()
        if state.get("delayline_pid"):
            netns.kill_pids([state["delayline_pid"]])
        for lk in plan.links:
            for node, ifname in ((lk.a_node, lk.a_if), (lk.b_node, lk.b_if)):
                netns.run(["ip", "-n", plan.nodes[node].netns, "link", "del", ifname],
                          check=False)
        if not plan.links:
            return
        spec = [{"a_ns": plan.nodes[lk.a_node].netns, "a_if": lk.a_if,
                 "b_ns": plan.nodes[lk.b_node].netns, "b_if": lk.b_if,
                 "delay_ms": lk.latency_ms / 2.0} for lk in plan.links]
        spec_file = self.dir / "links.json"
        spec_file.write_text(json.dumps(spec, indent=1))
        log = (self.dir / "delayline.log").open("ab")
        proc = subprocess.Popen(
            netns.ns_exec(plan.switch_ns, sys.executable, "-m", "pesdc.lab.delayline",
                          str(spec_file)),
            stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL,
            start_new_session=True, text=True)
        assert proc.stdout is not None
        if proc.stdout.readline().strip() != "ready":
            raise LabError(N_("the link delay line did not start (see {log})"),
                           log=f"{self.dir}/delayline.log")
        state["delayline_pid"] = proc.pid
        self.save_state(state)
        for lk in plan.links:
            for node, ifname, addr in ((lk.a_node, lk.a_if, lk.a_addr),
                                       (lk.b_node, lk.b_if, lk.b_addr)):
                ns = plan.nodes[node].netns
                netns.configure_if(ns, ifname, [addr])
                netns.shape(ns, ifname, lk.bandwidth_mbps)

    def _state_dict(self, plan: LabPlan, sources: list[str],
                    nodes: dict[str, NodeState]) -> dict[str, Any]:
        return {"lab": self.name, "dc": plan.dc.name, "sources": sources,
                "delayline_pid": self.load_state().get("delayline_pid"),
                "operator": self.load_state().get("operator"),
                "switch_ns": plan.switch_ns, "controller_ns": plan.nodes["controller"].netns
                if "controller" in plan.nodes else None,
                "nodes": {n: vars(s) for n, s in sorted(nodes.items())}}

    def _write_gear(self, configs: dict[str, dict[str, str]]) -> None:
        """Each stand-in's rendered files in its node directory (nft -f reads them)."""
        for name, files in configs.items():
            d = self.dir / "nodes" / name / "config"
            d.mkdir(parents=True, exist_ok=True)
            for fname, text in files.items():
                (d / fname).write_text(text)

    def _healthy(self, plan: LabPlan, node: Node, old: NodeState) -> bool:
        if node.netns not in self._live_ns or not old.alive():
            return False
        present = netns.links(node.netns)
        return all(i.name in present for i in node.interfaces)

    def _plug(self, plan: LabPlan, node: Node) -> None:
        """All of a node's interfaces in two `ip -batch` runs (node side, switch side)."""
        here: list[str] = []
        switch: list[str] = []
        for itf in node.interfaces:
            if itf.bridge is None:  # a site's LAN: a bridge of its own, inside the site
                here += [f"link add {itf.name} type bridge", f"link set {itf.name} up"]
            else:
                peer = "v" + short_hash(self.name, node.name, itf.name, n=10)
                netns.run(["ip", "-n", plan.switch_ns, "link", "del", peer], check=False)
                here.append(f"link add {itf.name} type veth peer name {peer} "
                            f"netns {plan.switch_ns}")
                switch += [f"link set {peer} master {itf.bridge}", f"link set {peer} up"]
                if itf.mac:
                    here.append(f"link set {itf.name} address {itf.mac}")
            here += [f"addr replace {a} dev {itf.name}" for a in itf.addresses]
            here.append(f"link set {itf.name} up")
        netns.batch(node.netns, here)
        netns.batch(plan.switch_ns, switch)

    def _start_node(self, plan: LabPlan, node: Node, config: dict[str, str]) -> NodeState:
        netns.create(node.netns)
        self._plug(plan, node)
        if node.forwarding:
            netns.sysctl(node.netns, "net.ipv4.ip_forward", "1")
        st = NodeState(node.name, node.netns, node.role, node.host, node.mgmt)
        if node.role == "server":
            st.pid = self._start_server(node)
        elif node.role == "firewall":
            conf = self.dir / "nodes" / node.name / "config" / "nftables.conf"
            netns.run(netns.ns_exec(node.netns, "nft", "-f", str(conf)))
            st.pid = self._start_gear_sshd(node)
        elif node.role == "router":
            self._start_frr(node, config.get("frr.conf", ""))
            if node.oob:
                names = ", ".join(f'"{i}"' for i in node.oob)
                netns.run(netns.ns_exec(node.netns, "nft", "-f", "-"), input=(
                    "table inet pesdc_oob {\n chain forward {\n"
                    "  type filter hook forward priority filter; policy accept;\n"
                    f"  iifname {{ {names} }} drop\n  oifname {{ {names} }} drop\n"
                    " }\n}\n"))
                # Packets forwarded from any other port reach the management zone through
                # the firewall pair, as they would with a management VRF.
                rules = [f"rule add iif {i} lookup main pref 90" for i in [*node.oob, "lo"]]
                rules.append("rule add lookup 100 pref 100")
                rules += [f"route replace {p} via {v} table 100" for p, v in node.oob_routes]
                netns.batch(node.netns, rules)
            # Interactive sessions (netmiko) get the vtysh CLI; `ssh rt-1 'show ip route'`
            # runs that one command, as on a real router.
            shell = self.dir / "nodes" / node.name / "vtysh-login"
            shell.write_text("#!/bin/sh\n"
                             'if [ -n "$SSH_ORIGINAL_COMMAND" ]; then\n'
                             f'  exec vtysh -N {node.netns} -c "$SSH_ORIGINAL_COMMAND"\n'
                             f"fi\nexec vtysh -N {node.netns}\n")
            shell.chmod(0o755)
            st.pid = self._start_gear_sshd(node, force_command=str(shell))
        elif node.role == "peer":
            self._start_frr(node, node.peer_config)
        elif node.role == "mgmt":
            st.pid = self._start_gear_sshd(node)
        return st

    def _start_server(self, node: Node) -> int:
        img = image_paths()
        d = self.dir / "nodes" / node.name
        upper, work, merged = d / "upper", d / "work", d / "merged"
        for p in (upper, work, merged):
            p.mkdir(parents=True, exist_ok=True)
        key = self._host_key(node.name)
        etc_ssh = upper / "etc/ssh"
        etc_ssh.mkdir(parents=True, exist_ok=True)
        for src in (key, key.with_suffix(".pub")):
            shutil.copy(src, etc_ssh / src.name)
        os.chmod(etc_ssh / key.name, 0o600)
        ssh_root = upper / "root/.ssh"
        ssh_root.mkdir(parents=True, exist_ok=True)
        shutil.copy(self.ssh_dir / "authorized_keys", ssh_root / "authorized_keys")
        os.chmod(ssh_root, 0o700)
        (upper / "etc/hostname").write_text(node.name + "\n")
        (upper / "etc/hosts").write_text(f"127.0.0.1 localhost\n::1 localhost\n"
                                         f"{node.mgmt} {node.host} {node.name}\n")
        script = "; ".join([
            "set -e",
            f"hostname {node.name}",
            f"mount -t overlay overlay -o lowerdir={img.repo_layer}:{img.base},"
            f"upperdir={upper},workdir={work} {merged}",
            f"mount -t proc proc {merged}/proc",
            f"mount -t sysfs sysfs {merged}/sys",
            # A private /dev: the machine's /dev must not be shared (a host's rsyslog
            # would replace the machine's /dev/log). Device nodes are bound one by one.
            f"mount -t tmpfs -o mode=755,nosuid tmpfs {merged}/dev",
            f"for n in null zero full random urandom tty; do touch {merged}/dev/$n; "
            f"mount --bind /dev/$n {merged}/dev/$n; done",
            f"mkdir -p {merged}/dev/pts {merged}/dev/shm",
            f"mount -t devpts -o newinstance,ptmxmode=0666,mode=620 devpts {merged}/dev/pts",
            f"ln -sf pts/ptmx {merged}/dev/ptmx",
            f"mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs {merged}/dev/shm",
            f"ln -sf /proc/self/fd {merged}/dev/fd",
            f"ln -sf /proc/self/fd/0 {merged}/dev/stdin",
            f"ln -sf /proc/self/fd/1 {merged}/dev/stdout",
            f"ln -sf /proc/self/fd/2 {merged}/dev/stderr",
            f"mount -t tmpfs -o mode=755 tmpfs {merged}/run",
            f"mkdir -p {merged}/run/sshd {merged}/run/lock",
            f"exec chroot {merged} {SSHD} -D -e -o UseDNS=no "
            f"-o HostKey=/etc/ssh/{key.name} -o ListenAddress={node.mgmt}",
        ])
        log = (d / "host.log").open("ab")
        proc = subprocess.Popen(
            netns.ns_exec(node.netns, "unshare", "--mount", "--uts", "--pid", "--fork",
                          "--kill-child", "--propagation", "private", "/bin/sh", "-c", script),
            stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
        return proc.pid

    def _start_gear_sshd(self, node: Node, force_command: str | None = None) -> int:
        d = self.dir / "nodes" / node.name
        key = self._host_key(node.name)
        conf = d / "sshd_config"
        lines = [f"ListenAddress {node.mgmt}", "Port 22", f"HostKey {key}",
                 f"AuthorizedKeysFile {self.ssh_dir / 'authorized_keys'}",
                 "PermitRootLogin prohibit-password", "PasswordAuthentication no",
                 "KbdInteractiveAuthentication no", "UsePAM no", "UseDNS no",
                 "StrictModes no", f"PidFile {d / 'sshd.pid'}"]
        if force_command:
            lines.append(f"ForceCommand {force_command}")
        conf.write_text("\n".join(lines) + "\n")
        os.makedirs("/run/sshd", exist_ok=True)
        log = (d / "sshd.log").open("ab")
        # Its own UTS namespace: vtysh and shells show the device's name as prompt.
        proc = subprocess.Popen(
            netns.ns_exec(node.netns, "unshare", "--uts", "/bin/sh", "-c",
                          f"hostname {node.name}; exec {SSHD} -D -e -f {conf}"),
            stdout=log, stderr=log, stdin=subprocess.DEVNULL, start_new_session=True)
        return proc.pid

    def _frr_dirs(self, node: Node) -> tuple[Path, Path]:
        return Path("/etc/frr") / node.netns, Path("/var/run/frr") / node.netns

    def _start_frr(self, node: Node, frr_conf: str) -> None:
        etc, run = self._frr_dirs(node)
        etc.mkdir(parents=True, exist_ok=True)
        run.mkdir(parents=True, exist_ok=True)
        (etc / "frr.conf").write_text(frr_conf)
        (etc / "vtysh.conf").write_text("service integrated-vtysh-config\n")
        (etc / "daemons").write_text("zebra=yes\nstaticd=yes\nospfd=yes\n")
        shutil.chown(etc, "frr", "frr")
        shutil.chown(run, "frr", "frr")
        for f in etc.iterdir():
            shutil.chown(f, "frr", "frr")
        for daemon in FRR_DAEMONS:
            netns.run(netns.ns_exec(node.netns, str(FRR_BIN / daemon), "-d", "-N", node.netns,
                                    "-P", "0", "-u", "frr", "-g", "frr",
                                    "-i", str(run / f"{daemon}.pid")))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if all((run / f"{d}.vty").exists() for d in FRR_DAEMONS):
                break
            time.sleep(0.05)
        netns.run(netns.ns_exec(node.netns, "vtysh", "-N", node.netns, "-b"), check=False)

    def _wait_ssh(self, plan: LabPlan, log: Log, timeout: float = 30) -> None:
        states = self.nodes()
        pending = {n.key: n for n in plan.nodes.values()
                   if n.role in ("server", "firewall", "router", "mgmt") and n.mgmt}
        deadline = time.monotonic() + timeout
        while pending and time.monotonic() < deadline:
            for key, node in list(pending.items()):
                pid = states[key].pid if key in states else None
                if pid is not None and netns.listening(pid, node.mgmt or "", 22):
                    del pending[key]
            if pending:
                time.sleep(0.05)
        if pending:
            raise LabError(N_("sshd did not start on: {nodes} (see {logs})"),
                           nodes=", ".join(sorted(pending)), logs=f"{self.dir}/nodes/NODE/*.log")

    # -- take down -------------------------------------------------------------------
    def _stop_node(self, st: NodeState) -> None:
        if st.alias:
            return
        if st.pid is not None:
            netns.kill_pids([st.pid])
        netns.delete(st.netns)
        etc, run = Path("/etc/frr") / st.netns, Path("/var/run/frr") / st.netns
        if st.role in ("router", "peer"):
            shutil.rmtree(etc, ignore_errors=True)
            shutil.rmtree(run, ignore_errors=True)

    def stop_nodes(self, names: list[str]) -> None:
        """Stop these nodes and forget them (their files stay): a node the next `up`
        does not plan is gone, one it plans is started afresh."""
        state = self.load_state()
        nodes = state.get("nodes", {})
        for name in names:
            if name in nodes:
                self._stop_node(NodeState(**nodes.pop(name)))
        state["nodes"] = nodes
        self.save_state(state)

    def down(self) -> dict[str, int]:
        require_root()
        started = time.monotonic()
        state = self.load_state()
        nodes = self.nodes()
        if state.get("delayline_pid"):
            netns.kill_pids([state["delayline_pid"]])
        operator.take_down(state.get("operator"))
        for st in nodes.values():
            self._stop_node(st)
        # Anything left with this lab's prefix (a crashed `up` before state was saved).
        # Not those of another lab whose name starts with this one's (lab "mc" and the
        # member "mc-jinan" of a multi-center lab).
        prefix = f"pesdc-{self.name}-"
        labs_dir = self.dir.parent
        others = [f"pesdc-{p.name}-" for p in labs_dir.iterdir()
                  if p.name != self.name and p.name.startswith(self.name + "-")] \
            if labs_dir.is_dir() else []
        leftovers = [ns for ns in netns.existing() if ns.startswith(prefix)
                     and not any(ns.startswith(o) for o in others)]
        for ns in leftovers:
            netns.delete(ns)
            shutil.rmtree(Path("/etc/frr") / ns, ignore_errors=True)
            shutil.rmtree(Path("/var/run/frr") / ns, ignore_errors=True)
        if state.get("switch_ns"):
            netns.delete(state["switch_ns"])
        shutil.rmtree(self.dir, ignore_errors=True)
        # ospfd writes one file outside its -N pathspace; the last lab down removes it.
        labs = self.dir.parent
        if not (labs.is_dir() and any(labs.iterdir())):
            Path("/var/run/frr/ospfd-gr.json").unlink(missing_ok=True)
        return {"nodes": len(nodes), "leftovers": len(leftovers),
                "ms": int((time.monotonic() - started) * 1000)}

    # -- use -------------------------------------------------------------------------
    def exec_argv(self, node: str, cmd: list[str]) -> list[str]:
        nodes = self.nodes()
        st = nodes.get(node) or next((s for s in nodes.values() if s.host == node), None)
        if st is None:
            raise LabError(N_("no node {node!r} in lab {name}; nodes: {nodes}"), node=node,
                           name=self.name, nodes=", ".join(sorted(nodes)))
        if st.role == "server" and st.pid is not None:
            child = _first_child(st.pid)
            if child is None:
                raise LabError(N_("host {node} is not running; run `pesdc lab up` to repair"),
                               node=node)
            return ["nsenter", "--target", str(child), "--mount", "--uts", "--ipc", "--net",
                    "--pid", "--root", "--wd", *cmd]
        return netns.ns_exec(st.netns, *cmd)

    def network_view_argv(self, node: str) -> list[str]:
        """The argv prefix that runs a command in a server's network and UTS namespaces
        (its addresses, routes and host name) with this machine's filesystem: a program
        installed here (the venv, ansible-runner) runs as if on that host. What an
        execution node on the center's bastion is, without installing pesdc into the
        host's own root."""
        nodes = self.nodes()
        st = nodes.get(node) or next((s for s in nodes.values() if s.host == node), None)
        if st is None:
            raise LabError(N_("no node {node!r} in lab {name}; nodes: {nodes}"), node=node,
                           name=self.name, nodes=", ".join(sorted(nodes)))
        if st.role != "server" or st.pid is None:
            raise LabError(N_("node {node} of lab {name} is not a server: only a server host "
                              "has a host name of its own to run a program on"),
                           node=node, name=self.name)
        child = _first_child(st.pid)  # the host's sshd, PID 1 of its namespaces
        if child is None or st.netns not in netns.existing():
            raise LabError(N_("host {node} is not running; run `pesdc lab up` to repair"),
                           node=node)
        return ["nsenter", f"--net=/run/netns/{st.netns}", f"--uts=/proc/{child}/ns/uts",
                "--"]

    def controller_argv(self, cmd: list[str]) -> list[str]:
        ns = self.load_state().get("controller_ns")
        if not ns:
            raise LabError(N_("lab {name} is not up (no controller namespace)"), name=self.name)
        return netns.ns_exec(ns, *cmd)


# Bumped when the way a node is built changes, so `up` rebuilds running labs.
NODE_LAYOUT = "2: private /dev"


def _node_sha(node: Node, config: dict[str, str]) -> str:
    blob = json.dumps([NODE_LAYOUT, [(i.name, i.bridge, i.addresses) for i in node.interfaces],
                       node.oob, node.oob_routes, sorted(config.items())])
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def _first_child(pid: int) -> int | None:
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            kids = (task / "children").read_text().split()
            if kids:
                return int(kids[0])
    except OSError:
        return None
    return None


def _node_step(role: str) -> str:
    """A node's step in the progress lines: ``router node``."""
    return T(N_("{role} node"), role=role)

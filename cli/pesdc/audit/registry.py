"""Audit checks are code keyed by rule id (as pesdc/rules/registry.py for validation).

Three shapes, one registry:
- center checks ``fn(ctx, params) -> list[Outcome]`` (topology and rendered rules);
- host checks ``fn(evidence, facts, params) -> Outcome`` run once per server on its
  evidence: the rendered files (--static) or what the host reports (--lab/--live). The
  same function runs on recorded evidence in the tests;
- device checks ``fn(device_evidence, params) -> Outcome | None`` run once per network
  device on its configuration (rendered, or the running one of Linux gear).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

from pesdc.audit.result import Evidence, Msg, Outcome, Status
from pesdc.model.schema import DataCenter, Server, ServerRole, ZoneKind
from pesdc.model.tree import DCIndex, Topology
from pesdc.policy import CenterPolicy
from pesdc.provision.duties import Duty, duties
from pesdc.provision.spec import HostSpec
from pesdc.render.context import CenterFacts


@dataclass
class HostEvidence:
    """What is known of one server: ``file:/abs/path`` contents and ``cmd:NAME`` output."""

    host: str  # NAME.CENTER
    source: str  # rendered, lab, live
    data: dict[str, str] = field(default_factory=dict)
    error: str = ""  # could not be reached / read

    def get(self, key: str) -> str | None:
        return self.data.get(key)

    def files(self, prefix: str) -> str | None:
        """The concatenated contents of every collected file under ``prefix``."""
        want = "file:" + prefix
        keys = sorted(k for k in self.data if k.startswith(want))  # in path order
        return "\n".join(self.data[k] for k in keys) if keys else None

    def ev(self, key: str, limit: int = 4000) -> Evidence:
        text = self.data.get(key, "")
        label = key[5:] if key.startswith("file:") else key[4:] if key.startswith("cmd:") \
            else key
        what = "file " if key.startswith("file:") else "$ " if key.startswith("cmd:") else ""
        return Evidence(f"{what}{label}", text[:limit], self.source)


@dataclass
class HostFacts:
    """What a server should be, for comparing evidence against: the expectations of its
    HostSpec (the one derivation provisioning applies and verify checks). The audit's
    norms (thresholds, required settings) are its own, in the catalog's parameters."""

    name: str
    roles: list[str]
    zone: str
    os: str = "debian"
    mgmt_nets: list[str] = field(default_factory=list)
    log_servers: list[str] = field(default_factory=list)
    time_sources: list[str] = field(default_factory=list)
    admins: dict[str, str] = field(default_factory=lambda: {
        "system": "sysadmin", "audit": "auditadmin", "security": "secadmin"})
    listeners: set[str] = field(default_factory=lambda: {"tcp/22"})
    # administrator role -> its duty (data/admin_duties.yaml), for this OS family
    duties: dict[str, Duty] = field(default_factory=lambda: duties("debian"))


@dataclass
class DeviceEvidence:
    name: str  # NAME.CENTER
    kind: str  # DeviceKind value
    platform: str  # its family folder (pesdc/platforms/<family>/), whose dialect reads it
    files: dict[str, str]  # file name -> text (rendered, or read from the running gear)
    source: str  # rendered, lab, live
    mgmt_nets: list[str] = field(default_factory=list)
    log_servers: list[str] = field(default_factory=list)
    time_sources: list[str] = field(default_factory=list)
    admins: dict[str, str] = field(default_factory=dict)
    # Why render refused this device (RENDER004/005): its files are then empty, and a
    # check must say why rather than judge nothing.
    refused: list[str] = field(default_factory=list)
    # Why there is no evidence at all (the renderer crashed on it): every device rule is
    # then an error on this device, never a verdict on empty text.
    error: str = ""
    # Set when the files are a fallback: the running configuration was asked for (--lab)
    # but could not be read, so these are the rendered files. A rule judged on them says
    # so, and cannot pass in full (see ``on_fallback``).
    fallback: str = ""

    @property
    def text(self) -> str:
        return "\n".join(self.files[k] for k in sorted(self.files))

    def ev(self, limit: int = 4000) -> list[Evidence]:
        return [Evidence(f"{self.source} {fname}", txt[:limit], self.source)
                for fname, txt in sorted(self.files.items())]


@dataclass
class AuditContext:
    topo: Topology
    dc: DataCenter
    mode: str = "static"
    hosts: dict[str, HostEvidence] = field(default_factory=dict)  # server name -> evidence
    devices: dict[str, DeviceEvidence] = field(default_factory=dict)  # device name -> ev.
    rendered_devices: dict[str, dict[str, str]] = field(default_factory=dict)
    rendered_all: dict[str, str] = field(default_factory=dict)  # relpath -> text
    # device name -> the context its templates were given (static_evidence; read only)
    device_contexts: dict[str, dict[str, Any]] = field(default_factory=dict)
    # What is derived from the whole tree, the same for every center: filled once by
    # audit --all (before forking), else derived by this audit when first asked for.
    tree: dict[str, Any] = field(default_factory=dict)

    def offsite_backups(self) -> list[Any]:
        """The tree's off-site copies (pesdc.crosscenter.offsite_backups)."""
        if "offsite_backups" not in self.tree:
            from pesdc.crosscenter import offsite_backups

            self.tree["offsite_backups"] = offsite_backups(self.topo)
        return list(self.tree["offsite_backups"])

    @cached_property
    def idx(self) -> DCIndex:
        return self.topo.index(self.dc)

    @cached_property
    def policy(self) -> CenterPolicy:
        """The center's zone policy: the one its configurations are rendered from
        (CenterFacts builds it with pesdc.policy.build; nothing edits it)."""
        return self.center_facts.policy

    @cached_property
    def zone_kind(self) -> dict[str, ZoneKind]:
        return {z.name: z.kind for z in self.dc.zones}

    @cached_property
    def mgmt_nets(self) -> list[str]:
        return [s.subnet for z in self.dc.zones if z.kind is ZoneKind.security_management
                for s in z.segments]

    def servers_with(self, role: ServerRole, mgmt_only: bool = True) -> list[Server]:
        return [s for s in self.dc.servers if role in s.roles and (
            not mgmt_only or self.zone_kind.get(s.zone) is ZoneKind.security_management)]

    @cached_property
    def center_facts(self) -> CenterFacts:
        return CenterFacts.of(self.topo, self.dc)

    @cached_property
    def host_specs(self) -> dict[str, HostSpec]:
        """The HostSpecs built so far (one per server and audit: see :meth:`host_spec`)."""
        return {}

    def host_spec(self, srv: Server) -> HostSpec:
        """What provisioning makes of the server (as the lab builds its hosts when the
        audit reads a lab). Built when first asked for, so that a server whose HostSpec
        cannot be built fails its own checks only.

        Static: the expectations without the shared server files, which the evidence
        is (static_evidence renders them from the same templates and context, and a
        failure there is already the host's error); the other files are rendered still
        and thrown away, so that a template failure is the host's error as before."""
        if srv.name not in self.host_specs:
            from pesdc.provision.desired import desired_facts, desired_state

            if self.mode == "static":
                spec = desired_facts(self.topo, self.dc.name, srv.name, False,
                                     facts=self.center_facts, unshared_files=True)
            else:
                spec = desired_state(self.topo, self.dc.name, srv.name,
                                     self.mode == "lab", facts=self.center_facts)
            self.host_specs[srv.name] = spec
        return self.host_specs[srv.name]

    @cached_property
    def _host_facts(self) -> dict[str, HostFacts]:
        return {}

    def host_facts(self, srv: Server) -> HostFacts:
        """The server's HostFacts, built once per audit (every host rule reads them;
        no check edits them)."""
        if srv.name not in self._host_facts:
            self._host_facts[srv.name] = self._facts_of(srv)
        return self._host_facts[srv.name]

    def _facts_of(self, srv: Server) -> HostFacts:
        spec = self.host_spec(srv)
        return HostFacts(srv.name, list(spec.roles), srv.zone, srv.os.value, self.mgmt_nets,
                         list(spec.log_servers), list(spec.time_sources), spec.admins,
                         set(spec.listeners), spec.duties)


CenterFn = Callable[[AuditContext, dict[str, Any]], list[Outcome]]
HostFn = Callable[[HostEvidence, HostFacts, dict[str, Any]], Outcome]
DeviceFn = Callable[[DeviceEvidence, dict[str, Any]], "Outcome | None"]

CHECKS: dict[str, CenterFn] = {}
HOST_CHECKS: dict[str, HostFn] = {}
DEVICE_CHECKS: dict[str, DeviceFn] = {}


def check(rule_id: str) -> Callable[[CenterFn], CenterFn]:
    def register(fn: CenterFn) -> CenterFn:
        if rule_id in CHECKS:  # pragma: no cover - programming error
            raise ValueError(f"audit check {rule_id} registered twice")
        CHECKS[rule_id] = fn
        return fn

    return register


def host_check(rule_id: str) -> Callable[[HostFn], HostFn]:
    def register(fn: HostFn) -> HostFn:
        HOST_CHECKS[rule_id] = fn

        def over_hosts(ctx: AuditContext, params: dict[str, Any]) -> list[Outcome]:
            out = []
            for srv in ctx.dc.servers:
                ev = ctx.hosts.get(srv.name)
                if ev is None:
                    continue
                target = f"{srv.name}.{ctx.dc.name}"
                if ev.error:
                    out.append(Outcome(target, Status.error, Msg(
                        f"no evidence, not judged: {ev.error}",
                        f"未能采集到证据，无法判定：{ev.error}"),
                        [Evidence("collection", ev.error, ev.source)]))
                    continue
                try:
                    # Looked up when run, so the table is the one place a check lives.
                    res = HOST_CHECKS[rule_id](ev, ctx.host_facts(srv), params)
                except Exception as exc:  # a parser surprise is an error, not a crash
                    why = f"{type(exc).__name__}: {exc}"
                    res = Outcome(target, Status.error, Msg(
                        f"evidence could not be read, not judged: {why}",
                        f"证据无法解析，无法判定：{why}"))
                res.target = target
                out.append(res)
            return out

        check(rule_id)(over_hosts)
        return fn

    return register


def device_check(rule_id: str) -> Callable[[DeviceFn], DeviceFn]:
    def register(fn: DeviceFn) -> DeviceFn:
        DEVICE_CHECKS[rule_id] = fn

        def over_devices(ctx: AuditContext, params: dict[str, Any]) -> list[Outcome]:
            out = []
            for dev in ctx.dc.devices:
                ev = ctx.devices.get(dev.name)
                if ev is None:
                    continue
                if ev.error:
                    out.append(Outcome(ev.name, Status.error, Msg(
                        f"no evidence, not judged: {ev.error}",
                        f"未能取得证据，无法判定：{ev.error}"),
                        [Evidence("collection", ev.error, ev.source)]))
                    continue
                try:
                    res = on_fallback(ev, DEVICE_CHECKS[rule_id](ev, params))
                except Exception as exc:
                    why = f"{type(exc).__name__}: {exc}"
                    res = Outcome(ev.name, Status.error, Msg(
                        f"configuration could not be read, not judged: {why}",
                        f"设备配置无法解析，无法判定：{why}"))
                if res is not None:
                    res.target = ev.name
                    out.append(res)
            return out

        check(rule_id)(over_devices)
        return fn

    return register


def on_fallback(ev: DeviceEvidence, res: Outcome | None) -> Outcome | None:
    """A verdict on fallback evidence (rendered, the running configuration unreadable)
    says so, and a pass is only partial: what runs on the device was not seen."""
    if res is None or not ev.fallback:
        return res
    note = Msg(f" (judged on the rendered configuration: the running one could not be "
               f"read: {ev.fallback})", f"（依据渲染配置判定：未能读取运行配置：{ev.fallback}）")
    status = Status.partial if res.status is Status.passed else res.status
    return replace(res, status=status, msg=res.msg + note,
                   evidence=[*res.evidence, Evidence("running configuration", ev.fallback,
                                                     "lab")])


def in_nets(addr: str, nets: list[str]) -> bool:
    try:
        ip = ipaddress.ip_address(addr)
        return any(ip in ipaddress.ip_network(n, strict=False) for n in nets)
    except ValueError:
        return False


def all_checks() -> dict[str, CenterFn]:
    from pesdc.audit import checks_device, checks_host, checks_topology  # noqa: F401

    return CHECKS


Target = str | Msg  # a plain name (host, device), or words around one ("zone mgmt")


def _outcome(target: Target, status: Status, message: Msg,
             evidence: tuple[Evidence, ...] = ()) -> Outcome:
    if isinstance(target, Msg):
        return Outcome(target.en, status, message, list(evidence), target.zh)
    return Outcome(target, status, message, list(evidence))


def ok(target: Target, message: Msg, *evidence: Evidence) -> Outcome:
    return _outcome(target, Status.passed, message, evidence)


def bad(target: Target, message: Msg, *evidence: Evidence) -> Outcome:
    return _outcome(target, Status.failed, message, evidence)


def part(target: Target, message: Msg, *evidence: Evidence) -> Outcome:
    return _outcome(target, Status.partial, message, evidence)


def error(target: Target, message: Msg, *evidence: Evidence) -> Outcome:
    """The target could not be observed: not judged, scored as not met, fails the run."""
    return _outcome(target, Status.error, message, evidence)


def na(target: Target, message: Msg) -> Outcome:
    return _outcome(target, Status.na, message)


def manual(target: Target, message: Msg, *evidence: Evidence) -> Outcome:
    return _outcome(target, Status.manual, message, evidence)

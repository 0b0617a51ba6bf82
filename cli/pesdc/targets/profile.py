"""The connection profile of one center: how a controller outside the center reaches it.

A level-3 center admits SSH only from its bastion host (运维审计堡垒机): every connection
pesdc makes to a live center (pyinfra, ansible-playbook, netmiko, testinfra, the audit's
evidence collector, the journal's syslog copy) goes through that bastion. The profile
says which host the bastion is and how to log in to it, which account each class of
host takes, where the pinned host keys are, the timeouts and the parallelism. It holds
no secret: passwords come from the credentials (:mod:`pesdc.credentials`), keys from
files or the user's agent.

``pesdc targets init`` writes one from the topology (the topology knows the bastion);
the engineer reviews it, then ``pesdc targets trust`` pins the keys it reaches.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pesdc.model.diagnostics import Diagnostic
from pesdc.model.schema import DeviceKind, ServerRole, Tier
from pesdc.model.tree import Topology

SCHEMA = "pesdc/connection-profile/v1"

# Values written into the generated OpenSSH configuration: one token each, so that no
# profile value can add a line or an option to it.
HostName = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9.:-]{0,252}$")]
FilePath = Annotated[str, Field(pattern=r"^[^\s\x00-\x1f\x7f\"']+$")]

Users = Annotated[list[Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_.-]{0,31}$")]],
                  Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Bastion(_Strict):
    """The one host the controller reaches directly."""

    server: str  # its name in the topology
    address: HostName  # how the controller reaches it (its topology address by default)
    port: int = Field(22, ge=1, le=65535)
    # Accounts tried in order (the first that accepts the key): the operator's own,
    # then pesdc's deploy account, then root on a center not provisioned yet.
    users: Users = ["pesdc", "root"]
    identity_file: FilePath | None = None  # else the agent and the user's ssh_config


class HostUsers(_Strict):
    """The account each class of host is logged in to, tried in order."""

    servers: Users = ["pesdc", "root"]
    devices: Users = ["admin"]  # vendor gear: the password comes from the credentials
    linux_gear: Users = ["root"]  # Linux firewalls and routers (nftables, FRR)


class Timeouts(_Strict):
    connect: int = Field(10, ge=1, le=300)
    command: int = Field(120, ge=1, le=86400)


class Profile(_Strict):
    """``pesdc/connection-profile/v1``."""

    schema_: str = Field(SCHEMA, alias="schema")
    center: str
    # A rehearsal against a lab: the center's gear are that lab's stand-ins and the
    # journal marks the entries as the lab's. Empty on a real center.
    stand_ins: str | None = None
    bastion: Bastion
    users: HostUsers = HostUsers()
    known_hosts: FilePath = "known_hosts"  # relative to the profile's folder
    ssh_config: FilePath | None = "~/.ssh/config"  # the user's own, for what pesdc leaves unset
    timeouts: Timeouts = Timeouts()
    parallel: int = Field(8, ge=1, le=64)

    # -- where things are ---------------------------------------------------------------
    def resolve(self, base: Path, value: str) -> Path:
        p = Path(os.path.expanduser(value))
        return p if p.is_absolute() else base / p


class ProfileError(Exception):
    """A profile that cannot be used: every problem, each ``file:line:column``."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        super().__init__("\n".join(d.format() for d in diagnostics))


def load_profile(path: Path) -> Profile:
    """The profile, or :class:`ProfileError` naming every problem at its line."""
    from pesdc.model.loader import _pydantic_diags
    from pesdc.model.yamlio import Locator, read_yaml

    shown = str(path)
    data, problems = read_yaml(path, shown)
    if problems:
        raise ProfileError(problems)
    if not isinstance(data, dict):
        raise ProfileError([Diagnostic("TGT001", "a connection profile is a mapping "
                                       f"(schema: {SCHEMA})", shown,
                                       hint="run `pesdc targets init` to write one")])
    try:
        prof = Profile.model_validate(data)
    except ValidationError as exc:
        diags = _pydantic_diags(exc, shown, (), model=Profile)
        for d in diags:
            d.rule = "TGT002" if d.rule.startswith("SCH") else d.rule
        Locator({shown: path}).fill(diags)
        raise ProfileError(diags) from None
    if prof.schema_ != SCHEMA:
        d = Diagnostic("TGT003", f"schema {prof.schema_!r} is not {SCHEMA!r}", shown,
                       ("schema",), "write the profile again with `pesdc targets init`")
        Locator({shown: path}).fill([d])
        raise ProfileError([d])
    return prof


def check_against(prof: Profile, topo: Topology, path: Path) -> list[Diagnostic]:
    """Problems between the profile and the topology (wrong center or bastion)."""
    shown = str(path)
    out = []
    if prof.center not in topo.datacenters:
        out.append(Diagnostic("TGT004", f"center {prof.center!r} is not in the topology",
                              shown, ("center",), "give the topology of that center"))
        return out
    dc = topo.datacenters[prof.center]
    if prof.bastion.server not in bastions(topo, prof.center):
        out.append(Diagnostic("TGT005", f"{prof.bastion.server!r} is not a bastion host of "
                              f"{prof.center}", shown, ("bastion", "server"),
                              "name a server with role bastion (or a bastion appliance): "
                              + (", ".join(bastions(topo, dc.name)) or "the topology has "
                                 "none: add one to the security management zone")))
    if out:
        from pesdc.model.yamlio import Locator
        Locator({shown: path}).fill(out)
    return out


def bastions(topo: Topology, center: str) -> dict[str, str]:
    """The center's bastion hosts: name -> management address."""
    dc = topo.datacenters[center]
    found = {s.name: s.address for s in dc.servers if ServerRole.bastion in s.roles}
    found.update({d.name: d.mgmt for d in dc.devices if d.kind is DeviceKind.bastion})
    return found


def initial_profile(topo: Topology, center: str, stand_ins: str | None = None,
                    identity_file: str | None = None, bastion_users: list[str] | None = None,
                    ) -> dict[str, Any]:
    """The profile ``pesdc targets init`` writes: the topology's bastion, the defaults."""
    dc = topo.datacenters[center]
    if dc.tier is Tier.city and dc.hosted:
        raise ValueError(f"{center} is hosted by {dc.hosted_by}: it has no hosts of its own")
    found = bastions(topo, center)
    if not found:
        raise ValueError(f"{center} has no bastion host (role bastion in its security "
                         "management zone): a level-3 center is reached through one; add "
                         "it to the topology first")
    # A bastion server before an appliance: pesdc's tools jump through OpenSSH.
    servers = sorted(s.name for s in dc.servers if ServerRole.bastion in s.roles)
    name = (servers or sorted(found))[0]
    bastion: dict[str, Any] = {"server": name, "address": found[name], "port": 22,
                               "users": bastion_users or ["pesdc", "root"]}
    if identity_file:
        bastion["identity_file"] = identity_file
    prof = Profile.model_validate({"schema": SCHEMA, "center": center,
                                   "stand_ins": stand_ins, "bastion": bastion,
                                   "known_hosts": f"{center}.known_hosts"})
    return prof.model_dump(by_alias=True, mode="json")


def profile_text(data: dict[str, Any]) -> str:
    head = ("# pesdc connection profile (pesdc targets init). No secrets belong here:\n"
            "# passwords come from PESDC_SECRET_* / --secrets FILE / an Ansible Vault file.\n"
            "# Review it, then pin the host keys: pesdc targets trust THIS_FILE TOPOLOGY\n")
    return head + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)

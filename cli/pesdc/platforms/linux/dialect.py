"""How the audit reads Linux gear: the nftables ruleset of its firewalls and
gatekeepers (rendered, or `nft list ruleset` in the lab). Its management (sshd,
rsyslog, chrony) is the host's and judged with the hosts."""

from __future__ import annotations

import re

from pesdc.platforms.dialect import FILTERS, Dialect, Finding, Proof
from pesdc.platforms.linux.policy import READER


def nft_chain(text: str, chain: str) -> str:
    m = re.search(rf"chain {chain} \{{(.*?)\n\s*\}}", text, re.DOTALL)
    return m.group(1) if m else ""


class NftablesDialect(Dialect):
    manages_itself = False
    policy = READER

    def default_deny(self, text: str) -> Finding | None:
        fwd = nft_chain(text, "forward")
        proof = Proof("nftables forward chain", fwd[:3000] or text[:2000])
        if re.search(r"policy drop;", fwd):
            return Finding("passed", "forward chain policy drop", proof)
        return Finding("failed", "forward chain accepts by default", proof)

    def stateful(self, text: str) -> Finding | None:
        fwd = nft_chain(text, "forward")
        proof = Proof("nftables forward chain", fwd[:3000])
        est = re.search(r"ct state established,related accept", fwd)
        inv = re.search(r"ct state invalid drop", fwd)
        if est and inv:
            return Finding("passed", "connection tracking", proof)
        if est:
            return Finding("partial", "replies by state, invalid kept", proof)
        return Finding("failed", "no connection state", proof)

    def mgmt_access(self, text: str, device_kind: str,
                    mgmt_nets: list[str]) -> Finding | None:
        if device_kind not in FILTERS:
            return None  # FRR routers and bridge switches: reached through the host
        inp = nft_chain(text, "input")
        proof = Proof("nftables input chain", inp[:3000])
        if not re.search(r"policy drop;", inp):
            return Finding("failed", "input chain accepts by default", proof)
        ssh = [ln.strip() for ln in inp.splitlines() if "dport 22" in ln]
        if ssh and all("saddr @mgmt_nets" in ln or any(n.split("/")[0] in ln
                                                        for n in mgmt_nets)
                       for ln in ssh):
            return Finding("passed", "ssh from the management networks", proof)
        return Finding("failed", "ssh not limited", proof)

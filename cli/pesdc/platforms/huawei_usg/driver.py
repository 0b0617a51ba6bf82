"""The USG's push driver and diff: VRP's line by line, with the USG's SNMPv3 user.

The USG takes an SNMPv3 user in one line, group positional, keys in plaintext after
`simple` (usg.zrnko.cz cli_vrp/snmp-agent_usm-user_pseudo, Format), and its undo form
names only the user and the group (`undo snmp-agent usm-user v3 U G`). A device never
shows a key it was given: the displayed line carries its ciphertext (with or without a
`cipher` keyword; the USG display form was not read), so the normaliser folds it into
the form the template writes and the diff sees the key in place, not a line to send
again; a user that does change is removed by the undo form the device takes.

There is no native safe commit on a USG (commands.yaml `commit_model`): a failed push
is undone by pushing the backup back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from hier_config import Platform as HierPlatform

from pesdc.platforms.driver import BACKUP_PUSH
from pesdc.platforms.huawei_vrp.driver import VRP_NOISE, HuaweiDriver
from pesdc.platforms.remediation import CliSyntax, noise_dropped

_noise = noise_dropped(VRP_NOISE)
_USM = re.compile(r"^snmp-agent usm-user v3 (\S+) (\S+) (?:simple |cipher )?"
                  r"authentication-mode (\S+) (?:cipher )?(\S+)"
                  r"(?: privacy-mode (\S+) (?:cipher )?(\S+))?$")
_UNDO_USM = re.compile(r"^(\s*undo snmp-agent usm-user v3 \S+ \S+) .+$")


def usg_normalise(text: str) -> str:
    """A configuration with each SNMPv3 user line in the template's one-line form."""
    out = []
    for line in _noise(text).splitlines():
        m = _USM.match(line)
        if m:
            user, group, auth, key, priv, pkey = m.groups()
            line = (f"snmp-agent usm-user v3 {user} {group} simple authentication-mode "
                    f"{auth} {key}" + (f" privacy-mode {priv} {pkey}" if priv else ""))
        out.append(line)
    return "\n".join(out) + "\n"


@dataclass(frozen=True)
class UsgSyntax(CliSyntax):
    """VRP's diff, with the USG's undo form of an SNMPv3 user."""

    def remediation(self, running: str, intended: str) -> list[str]:
        return [_UNDO_USM.sub(r"\1", line)
                for line in super().remediation(running, intended)]


USG = UsgSyntax(HierPlatform.HUAWEI_VRP, "quit", "undo", usg_normalise)


class UsgDriver(HuaweiDriver):
    """USG firewalls: VRP line by line (netmiko `huawei`), the USG's diff, the backup
    pushed back when a push fails."""

    name = "huawei_usg"
    syntax = USG
    commit_model = BACKUP_PUSH

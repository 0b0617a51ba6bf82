"""Provision network gear with netmiko: diff, push, commit and roll back (issue 6)."""

from __future__ import annotations

from pesdc.netpush.engine import NetpushError, apply_network, plan_network
from pesdc.netpush.secrets import SecretError, Secrets

__all__ = ["NetpushError", "SecretError", "Secrets", "apply_network", "plan_network"]

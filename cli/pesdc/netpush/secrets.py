"""Device secrets: filled into the pushed lines only, redacted everywhere else.

Rendered configurations carry ``%%PESDC_SECRET:name%%`` placeholders. Values come from
the environment (``PESDC_SECRET_<NAME>``, the name upper-cased with ``-``/``.`` as
``_``), or from a secrets file, plain YAML (``name: value``, mode 0600) or encrypted with
Ansible Vault; the environment wins (:mod:`pesdc.credentials` reads them all). A value is
never printed, logged or written: every text that leaves a driver goes through
:meth:`Secrets.redact`, which puts the placeholder back (:mod:`pesdc.redact` does the
work; values loaded here are remembered there, so every report of the process redacts
them too).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from pathlib import Path

from pesdc.credentials import CredentialError, Credentials, env_name
from pesdc.credentials import load as load_credentials
from pesdc.redact import ENV_PREFIX, PLACEHOLDER, placeholder, replace_known

__all__ = ["ENV_PREFIX", "PLACEHOLDER", "SecretError", "Secrets", "env_name", "placeholder"]

# One error for a missing secret and an unusable secrets file or vault password.
SecretError = CredentialError


class Secrets(Credentials):
    """The run's credentials, with what a driver needs: fill, missing, redact."""

    @classmethod
    def load(cls, file: Path | None = None, env: Mapping[str, str] | None = None, *,
             vault_password_file: Path | None = None,
             prompt: Callable[[str], str] | None = None) -> Secrets:
        """The environment, then ``file`` (plain or Ansible Vault): see
        :func:`pesdc.credentials.load`."""
        return cls.of(load_credentials(file, vault_password_file, env, prompt))

    @classmethod
    def of(cls, creds: Credentials) -> Secrets:
        """The same credentials (those :func:`pesdc.credentials.load_for_cli` gave)."""
        return cls(creds.file_values(), creds.environment(), creds.source)

    def fill(self, text: str) -> str:
        def sub(m: re.Match[str]) -> str:
            value = self.get(m.group(1))
            if value is None:
                raise SecretError(f"secret {m.group(1)!r} is not set (environment "
                                  f"{env_name(m.group(1))} or --secrets FILE)")
            return value
        return PLACEHOLDER.sub(sub, text)

    def missing(self, text: str) -> list[str]:
        return sorted({n for n in PLACEHOLDER.findall(text) if self.get(n) is None})

    def redact(self, text: str) -> str:
        """Put the placeholder back wherever a secret value occurs (exact and reversible:
        drivers compare and push the result, so no shape masking here)."""
        return replace_known(text, self.known())

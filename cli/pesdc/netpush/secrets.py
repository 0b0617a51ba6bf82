"""Device secrets: filled into the pushed lines only, redacted everywhere else.

Rendered configurations carry ``%%PESDC_SECRET:name%%`` placeholders. Values come from
the environment (``PESDC_SECRET_<NAME>``, the name upper-cased with ``-``/``.`` as
``_``) or from a YAML secrets file (``name: value``); the environment wins. A value is
never printed, logged or written: every text that leaves a driver goes through
:meth:`Secrets.redact`, which puts the placeholder back (:mod:`pesdc.redact` does the
work; values loaded here are remembered there, so every report of the process redacts
them too).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

import yaml

from pesdc.redact import ENV_PREFIX, PLACEHOLDER, placeholder, remember, replace_known

__all__ = ["ENV_PREFIX", "PLACEHOLDER", "SecretError", "Secrets", "env_name", "placeholder"]


class SecretError(Exception):
    """A secret is missing or the secrets file cannot be read."""


def env_name(name: str) -> str:
    return ENV_PREFIX + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


class Secrets:
    def __init__(self, values: Mapping[str, str] | None = None,
                 env: Mapping[str, str] | None = None):
        self._values = {str(k): str(v) for k, v in (values or {}).items()}
        self._env = dict(os.environ if env is None else env)

    @classmethod
    def load(cls, file: Path | None = None, env: Mapping[str, str] | None = None) -> Secrets:
        values: dict[str, str] = {}
        if file is not None:
            try:
                data = yaml.safe_load(Path(file).read_text(encoding="utf-8")) or {}
            except OSError as exc:
                raise SecretError(f"cannot read secrets file {file}: {exc.strerror}") from None
            except yaml.YAMLError:
                # Never echo the parser's message: it may quote a secret.
                raise SecretError(f"secrets file {file} is not valid YAML") from None
            if not isinstance(data, dict):
                raise SecretError(f"secrets file {file} must map names to values")
            values = {str(k): str(v) for k, v in data.items() if v is not None}
            remember(values)  # a report written later in this run must not show them
        return cls(values, env)

    def get(self, name: str) -> str | None:
        return self._env.get(env_name(name), self._values.get(name))

    def known(self) -> dict[str, str]:
        """Every value this object can reveal (file and environment), by name."""
        out = dict(self._values)
        for key, value in self._env.items():
            if key.startswith(ENV_PREFIX) and value:
                out.setdefault(key[len(ENV_PREFIX):].lower(), value)
                for name in list(out):
                    if env_name(name) == key:
                        out[name] = value
        return out

    def as_env(self) -> dict[str, str]:
        """The values as PESDC_SECRET_* variables (to hand to a subprocess, not a file)."""
        return {env_name(k): v for k, v in self.known().items()}

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

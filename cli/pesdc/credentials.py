"""Credentials: device passwords, SNMP/RADIUS/TACACS keys and provisioning secrets.

A secret's value comes from, first to last:

1. the environment, ``PESDC_SECRET_<NAME>`` (the name upper-cased, other characters
   than letters and digits as ``_``);
2. a secrets file (``--secrets FILE``): a YAML mapping ``name: value`` of strings, mode
   0600 (a file group or others can open is refused);
3. the same ``--secrets FILE`` encrypted with Ansible Vault (it starts with
   ``$ANSIBLE_VAULT;``), decrypted with Ansible's own vault library. The vault password
   comes from ``--vault-password-file FILE`` or ``$PESDC_VAULT_PASSWORD_FILE`` (an
   executable file is run and its standard output read, as Ansible does: Ansible's
   :func:`ansible.parsing.vault.get_file_vault_secret` does both), else it is asked on
   the terminal;
4. provisioning only: a value generated once per center in the state directory
   (:mod:`pesdc.provision.secrets`).

Every value read here is registered with the redactor (:func:`pesdc.redact.remember`)
before it can be used, so each report, log line and journal entry of the process puts
its placeholder back. No value goes on a command line: a lab run re-executes itself in
the lab's controller namespace with the values in its environment
(:func:`export_for_reexec`), and the re-executed command reads them from there instead of
opening (and asking for the password of) the file again.
"""

from __future__ import annotations

import getpass
import os
import re
import stat
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from pesdc.redact import ENV_PREFIX, remember

__all__ = ["ENV_PREFIX", "LOADED_ENV", "NAMES_ENV", "VAULT_PASSWORD_ENV", "CredentialError",
           "Credentials", "active", "env_name", "export_for_reexec", "load", "load_for_cli",
           "read_file", "use"]

VAULT_HEADER = b"$ANSIBLE_VAULT;"
VAULT_PASSWORD_ENV = "PESDC_VAULT_PASSWORD_FILE"
# Set by a command before it re-executes itself inside a lab: the secrets file it read
# (the values are in PESDC_SECRET_* beside it) ...
LOADED_ENV = "PESDC_SECRETS_LOADED"
# ... and the names of the values, comma-separated (PESDC_SECRET_SNMP_AUTH alone cannot
# tell snmp-auth from snmp_auth). Not PESDC_SECRET_*: the names are not secrets.
NAMES_ENV = "PESDC_SECRETS_NAMES"
NAME = re.compile(r"[A-Za-z0-9_.-]+")
_STR = "tag:yaml.org,2002:str"
_KIND = {"tag:yaml.org,2002:int": "a number", "tag:yaml.org,2002:float": "a number",
         "tag:yaml.org,2002:bool": "a boolean (yes/no/true/false/on/off)",
         "tag:yaml.org,2002:null": "empty", "tag:yaml.org,2002:timestamp": "a date"}
WRONG_PASSWORD = "wrong vault password (or not a vault for this password)"


class CredentialError(Exception):
    """A secret is missing, or a secrets file or vault password cannot be used."""


def env_name(name: str) -> str:
    """The environment variable of a secret: ``snmp-auth`` -> ``PESDC_SECRET_SNMP_AUTH``."""
    return ENV_PREFIX + re.sub(r"[^A-Za-z0-9]", "_", name).upper()


class Credentials:
    """The secrets of one run: the file's values, and the environment, which wins."""

    def __init__(self, values: Mapping[str, str] | None = None,
                 env: Mapping[str, str] | None = None, source: str | None = None):
        self._values = {str(k): str(v) for k, v in (values or {}).items()}
        self._env = dict(os.environ if env is None else env)
        self.source = source  # where the values came from ("FILE", "FILE (Ansible Vault)")

    def get(self, name: str) -> str | None:
        return self._env.get(env_name(name)) or self._values.get(name)

    def origin(self, name: str) -> str | None:
        """Where ``get(name)`` comes from, in words (never the value)."""
        if self._env.get(env_name(name)):
            return f"the environment ({env_name(name)})"
        if name in self._values:
            return self.source or "the secrets file"
        return None

    def file_values(self) -> dict[str, str]:
        return dict(self._values)

    def environment(self) -> dict[str, str]:
        return dict(self._env)

    def names(self) -> list[str]:
        """The names of the file's values (the environment's are in :meth:`known`)."""
        return sorted(self._values)

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
        """The values as ``PESDC_SECRET_*`` variables, and their names in
        ``PESDC_SECRETS_NAMES``: for a child's environment, never its argv or a file."""
        out = {env_name(k): v for k, v in self.known().items()}
        if self._values:
            out[NAMES_ENV] = ",".join(sorted(self._values))
        return out


# -- the secrets file ----------------------------------------------------------------------


def _quiet_problem(exc: yaml.YAMLError) -> str:
    """The parser's complaint without what it quotes (a quoted bit may be a secret)."""
    problem = getattr(exc, "problem", None) or getattr(exc, "context", None) or ""
    problem = re.sub(r"'[^']*'|\"[^\"]*\"", "", str(problem))
    return re.sub(r"\s+", " ", problem).strip()


def _where(label: str, node: Any) -> str:
    mark = getattr(node, "start_mark", None)
    return f"{label}:{mark.line + 1}" if mark is not None else label


def parse(text: str, label: str) -> dict[str, str]:
    """``name: value`` strings of a secrets document; ``label`` names it in errors
    (``FILE``, ``FILE (decrypted)``), with the line the parser gives. No error quotes a
    value."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{label}:{mark.line + 1}:{mark.column + 1}" if mark else label
        why = _quiet_problem(exc)
        raise CredentialError(f"{where}: not valid YAML" + (f" ({why})" if why else "")
                              ) from None
    except yaml.YAMLError:
        raise CredentialError(f"{label}: not valid YAML") from None
    if node is None or (isinstance(node, yaml.ScalarNode) and node.tag ==
                        "tag:yaml.org,2002:null"):
        return {}
    if not isinstance(node, yaml.MappingNode):
        kind = "a list" if isinstance(node, yaml.SequenceNode) else "a single value"
        raise CredentialError(f"{_where(label, node)}: a secrets file is a mapping of "
                              f"name: value, not {kind}")
    out: dict[str, str] = {}
    for key, value in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag != _STR \
                or not NAME.fullmatch(key.value):
            raise CredentialError(f"{_where(label, key)}: a secret's name is letters, "
                                  "digits, '_', '-' or '.' (as in %%PESDC_SECRET:name%%)")
        name = key.value
        if name in out:
            raise CredentialError(f"{_where(label, key)}: {name} is given twice")
        if isinstance(value, yaml.MappingNode):
            raise CredentialError(f"{_where(label, value)}: {name} is a nested mapping; "
                                  "secrets are name: value at the top level")
        if isinstance(value, yaml.SequenceNode):
            raise CredentialError(f"{_where(label, value)}: {name} is a list; a secret's "
                                  "value is a string")
        if value.tag == "!vault":
            raise CredentialError(f"{_where(label, value)}: {name} is an inline !vault "
                                  "value, which pesdc does not read: encrypt the whole file "
                                  "instead (ansible-vault encrypt FILE)")
        if value.tag != _STR:
            kind = _KIND.get(value.tag, f"of type {value.tag.rsplit(':', 1)[-1]}")
            raise CredentialError(f"{_where(label, value)}: the value of {name} is {kind}, "
                                  f"not a string: quote it ({name}: \"...\")")
        if not value.value:
            raise CredentialError(f"{_where(label, value)}: the value of {name} is empty")
        out[name] = value.value
    return out


def _check_private(path: Path, what: str) -> None:
    try:
        mode = path.stat().st_mode
    except OSError as exc:
        raise CredentialError(f"cannot read {what} {path}: {exc.strerror}") from None
    if not stat.S_ISREG(mode):
        raise CredentialError(f"{what} {path} is not a regular file")
    if mode & 0o077:
        raise CredentialError(f"{what} {path} is open to group or others (mode "
                              f"{stat.S_IMODE(mode):04o}): run `chmod 600 {path}`")


def _vault_secret(file: Path, password_file: Path | None,
                  prompt: Callable[[str], str] | None) -> Any:
    """The Ansible VaultSecret that opens ``file``: from the password file (run when
    executable, by Ansible's code), else asked on the terminal."""
    from ansible.errors import AnsibleError
    from ansible.parsing.vault import VaultSecret, get_file_vault_secret

    if password_file is None and os.environ.get(VAULT_PASSWORD_ENV):
        password_file = Path(os.environ[VAULT_PASSWORD_ENV])
    if password_file is not None:
        pf = Path(password_file)
        if not pf.exists():
            raise CredentialError(f"vault password file {pf} does not exist")
        if pf.is_file() and not os.access(pf, os.X_OK):
            # A password at rest: only its owner may read it. (A script is run instead.)
            _check_private(pf, "vault password file")
        from ansible.parsing.dataloader import DataLoader

        try:
            secret = get_file_vault_secret(str(pf), "default", loader=DataLoader())
            secret.load()
        except AnsibleError as exc:
            first = (str(exc).strip().splitlines() or ["no password"])[0]
            raise CredentialError(f"vault password file {pf}: {first}") from None
        remember({"vault_password": secret.bytes.decode("utf-8", "replace")})
        return secret
    if prompt is None:
        if not sys.stdin.isatty():
            raise CredentialError(f"{file} is encrypted with Ansible Vault: give "
                                  "--vault-password-file FILE or set "
                                  f"{VAULT_PASSWORD_ENV} (no terminal to ask on)")
        prompt = getpass.getpass
    try:
        typed = prompt(f"Vault password for {file}: ")
    except (EOFError, KeyboardInterrupt):
        raise CredentialError(f"no vault password given for {file}") from None
    if not typed:
        raise CredentialError(f"no vault password given for {file}")
    remember({"vault_password": typed})
    return VaultSecret(typed.encode("utf-8"))


def read_file(file: Path, vault_password_file: Path | None = None,
              prompt: Callable[[str], str] | None = None) -> tuple[dict[str, str], str]:
    """The values of a secrets file (plain YAML, or Ansible Vault) and how to name where
    they came from. ``prompt``: asks for a vault password (default: getpass, on a
    terminal only). Raises :class:`CredentialError` (one line, no value in it)."""
    file = Path(file)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise CredentialError(f"cannot read secrets file {file}: {exc.strerror}") from None
    if data.lstrip().startswith(VAULT_HEADER):
        from ansible.errors import AnsibleError
        from ansible.parsing.vault import AnsibleVaultFormatError, VaultLib

        vault = VaultLib([("default", _vault_secret(file, vault_password_file, prompt))])
        try:
            plain = vault.decrypt(data)
        except AnsibleVaultFormatError:
            raise CredentialError(f"cannot decrypt {file}: not a readable Ansible Vault "
                                  "file (damaged?)") from None
        except AnsibleError:
            raise CredentialError(f"cannot decrypt {file}: {WRONG_PASSWORD}") from None
        try:
            text = bytes(plain).decode("utf-8")
        except UnicodeDecodeError:
            raise CredentialError(f"{file} (decrypted) is not UTF-8 text") from None
        if text.lstrip().startswith(VAULT_HEADER.decode()):
            raise CredentialError(f"{file} is encrypted twice: decrypt it once with "
                                  "ansible-vault decrypt") from None
        values = parse(text, f"{file} (decrypted)")
        source = f"{file} (Ansible Vault)"
    else:
        _check_private(file, "secrets file")
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            raise CredentialError(f"secrets file {file} is not UTF-8 text") from None
        values = parse(text, str(file))
        source = str(file)
    remember(values)  # a report written later in this run must not show them
    return values, source


def _from_reexec(file: Path | None, env: Mapping[str, str]) -> dict[str, str] | None:
    """The values a parent put in the environment before re-executing this command in a
    lab (:func:`export_for_reexec`); None when there is no such hand-over for ``file``."""
    names = [n for n in env.get(NAMES_ENV, "").split(",") if NAME.fullmatch(n)]
    if file is not None and env.get(LOADED_ENV) != str(Path(file).resolve()):
        return None
    return {n: env[env_name(n)] for n in names if env.get(env_name(n))}


def load(file: Path | None = None, vault_password_file: Path | None = None,
         env: Mapping[str, str] | None = None,
         prompt: Callable[[str], str] | None = None) -> Credentials:
    """The credentials of a run: the environment, then ``file`` (plain or vault)."""
    env = dict(os.environ if env is None else env)
    handed = _from_reexec(file, env)
    if handed is not None:
        remember(handed)
        return Credentials(handed, env, f"{file} (read before entering the lab)"
                           if file is not None else None)
    if file is None:
        return Credentials({}, env)
    values, source = read_file(file, vault_password_file, prompt)
    return Credentials(values, env, source)


def export_for_reexec(creds: Credentials, file: Path | None) -> None:
    """Before this process re-executes itself in a lab's controller namespace: put the
    values in its environment (never argv), so that the command there reads them instead
    of opening the file again (and asking for a vault password twice)."""
    os.environ.update(creds.as_env())
    if file is not None:
        os.environ[LOADED_ENV] = str(Path(file).resolve())


# -- the run's credentials -------------------------------------------------------------------

_active: Credentials | None = None


def use(creds: Credentials) -> Credentials:
    """Make ``creds`` the run's credentials (what :func:`active` returns)."""
    global _active
    _active = creds
    return creds


def active() -> Credentials:
    """The run's credentials: the last :func:`use`, else the environment's (read now)."""
    return _active if _active is not None else Credentials({}, None)


def load_for_cli(command: str, file: Path | None, vault_password_file: Path | None = None,
                 lab: str | None = None) -> Credentials:
    """:func:`load` for a command: the run's credentials from then on (:func:`use`); a
    lab run hands them to its re-execution in the environment. A problem is one line
    ``pesdc COMMAND: ...`` and exit 2."""
    try:
        creds = use(load(file, vault_password_file))
    except CredentialError as exc:
        print(f"pesdc {command}: {exc}", file=sys.stderr)
        sys.exit(2)
    if lab is not None:
        from pesdc.lab.enter import inside

        if not inside(lab) and (file is not None or creds.names()):
            export_for_reexec(creds, file)
    return creds

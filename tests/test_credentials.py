"""Credentials (issue 16 point 4): the environment, a secrets file, or an Ansible Vault file
read with Ansible's own vault library; never in outputs, logs or process arguments.

The vault files here are encrypted by Ansible itself (VaultLib, and the ansible-vault
command of the venv); nothing of Ansible is replaced."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from ansible.parsing.vault import VaultLib, VaultSecret

from pesdc import credentials, redact
from pesdc.credentials import CredentialError, Credentials
from pesdc.netpush.secrets import Secrets

ROOT = Path(__file__).resolve().parent.parent
LABCITY = ROOT / "tests" / "fixtures" / "labcity"
PESDC = [sys.executable, "-m", "pesdc"]
VAULT_PASSWORD = "Vault-Pass-Test-77"
DEVICE_PASSWORD = "Dev1ce-Pass-Test-41"
SNMP_AUTH = "Snmp-Auth-Test-42"
SECRETS_YAML = (f"netpush_username: netadmin\n"
                f"netpush_password: \"{DEVICE_PASSWORD}\"\n"
                f"snmp-auth: {SNMP_AUTH}\n"
                f"replication_password: Repl-Test-43\n")
NO_LAB = "pesdc-test-credentials-nolab"  # a lab that is never up


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Own state directory; no PESDC_SECRET_*, vault password file or hand-over of the
    caller; nothing remembered or active from another test; os.environ restored (a lab
    hand-over writes to it)."""
    saved = dict(os.environ)
    for key in [k for k in os.environ if k.startswith((redact.ENV_PREFIX, "PESDC_SECRETS_"))
                or k == credentials.VAULT_PASSWORD_ENV]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("PESDC_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setattr(redact, "_remembered", {})
    monkeypatch.setattr(credentials, "_active", None)
    yield tmp_path
    os.environ.clear()
    os.environ.update(saved)


def _private(path: Path, text: str) -> Path:
    path.write_text(text)
    path.chmod(0o600)
    return path


def _vault(path: Path, text: str = SECRETS_YAML, password: str = VAULT_PASSWORD) -> Path:
    """``text`` encrypted by Ansible's VaultLib; group-readable, as vault files in a
    repository are (the encryption protects them)."""
    path.write_bytes(VaultLib([("default", VaultSecret(password.encode()))]).encrypt(text))
    path.chmod(0o644)
    return path


def _password_file(tmp: Path, password: str = VAULT_PASSWORD) -> Path:
    return _private(tmp / "vault-pass", password + "\n")


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """pesdc in a child, stdin not a terminal."""
    return subprocess.run([*PESDC, *args], capture_output=True, text=True, timeout=120,
                          stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})})


# -- plain secrets file ------------------------------------------------------------------


def test_plain_file_values_and_the_environment_wins(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    f = _private(tmp_path / "secrets.yaml", SECRETS_YAML)
    monkeypatch.setenv("PESDC_SECRET_SNMP_AUTH", "Env-Wins-Test-44")
    c = credentials.load(f)
    assert c.get("netpush_password") == DEVICE_PASSWORD
    assert c.get("snmp-auth") == "Env-Wins-Test-44"
    assert c.origin("snmp-auth") == "the environment (PESDC_SECRET_SNMP_AUTH)"
    assert c.origin("netpush_password") == str(f)
    assert c.get("missing") is None and c.origin("missing") is None
    # the file's values are known to the redactor from now on (env ones always were)
    assert redact.known_secrets()["netpush_password"] == DEVICE_PASSWORD
    s = Secrets.load(f)
    assert s.fill("password %%PESDC_SECRET:netpush_password%%") == f"password {DEVICE_PASSWORD}"
    assert s.missing("%%PESDC_SECRET:netpush_password%% %%PESDC_SECRET:nope%%") == ["nope"]


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o620])
def test_a_file_group_or_others_can_open_is_refused(tmp_path: Path, mode: int) -> None:
    f = tmp_path / "secrets.yaml"
    f.write_text(SECRETS_YAML)
    f.chmod(mode)
    with pytest.raises(CredentialError) as exc:
        credentials.load(f)
    assert f"chmod 600 {f}" in str(exc.value)
    assert f"mode {mode:04o}" in str(exc.value)
    assert DEVICE_PASSWORD not in str(exc.value)
    assert redact.known_secrets() == {}  # nothing read from it


@pytest.mark.parametrize(("text", "where", "words"), [
    ("a: ok-value-1\nb: 123456\n", ":2", "the value of b is a number, not a string: quote it"),
    ("a: ok-value-1\n\nb: yes\n", ":3", "the value of b is a boolean"),
    ("a:\n", ":1", "the value of a is empty"),
    ("a:\n  nested: x1\n", ":2", "a is a nested mapping"),
    ("a: [one, two]\n", ":1", "a is a list"),
    ("- a\n- b\n", ":1", "a mapping of name: value, not a list"),
    ("just-a-string\n", ":1", "not a single value"),
    ("a: one-1\nb: two-2\na: three-3\n", ":3", "a is given twice"),
    ("a b: one-1\n", ":1", "a secret's name is letters"),
    ("a: !vault |\n  $ANSIBLE_VAULT;1.1;AES256\n  6136\n", ":1",
     "a is an inline !vault value, which pesdc does not read: encrypt the whole file"),
    ("x: 'Quoted-Secret-45\nb: c\n", ":", "not valid YAML"),
])
def test_bad_secrets_files_name_the_line_and_never_the_value(
        tmp_path: Path, text: str, where: str, words: str) -> None:
    f = _private(tmp_path / "secrets.yaml", text)
    with pytest.raises(CredentialError) as exc:
        credentials.load(f)
    msg = str(exc.value)
    assert msg.startswith(f"{f}{where}"), msg
    assert words in msg, msg
    assert "\n" not in msg
    for value in ("ok-value-1", "123456", "x1", "one-1", "two-2", "three-3",
                  "Quoted-Secret-45"):
        assert value not in msg, msg


def test_an_empty_file_has_no_values(tmp_path: Path) -> None:
    f = _private(tmp_path / "secrets.yaml", "# nothing yet\n")
    assert credentials.load(f).names() == []


# -- Ansible Vault -------------------------------------------------------------------------


def test_vault_file_opened_with_a_password_file(tmp_path: Path) -> None:
    f = _vault(tmp_path / "secrets.vault")
    c = credentials.load(f, _password_file(tmp_path))
    assert c.get("netpush_password") == DEVICE_PASSWORD
    assert c.get("snmp-auth") == SNMP_AUTH
    assert c.origin("snmp-auth") == f"{f} (Ansible Vault)"
    # known to the redactor: a report that prints them shows placeholders, and so would
    # the vault password itself
    out = redact.Redactor()(f"login {DEVICE_PASSWORD} auth {SNMP_AUTH} vault "
                            f"{VAULT_PASSWORD}")
    assert out == ("login %%PESDC_SECRET:netpush_password%% auth %%PESDC_SECRET:snmp-auth%% "
                   "vault %%PESDC_SECRET:vault_password%%")


def test_vault_encrypted_by_the_ansible_vault_command(tmp_path: Path) -> None:
    f = _private(tmp_path / "secrets.yaml", SECRETS_YAML)
    pw = _password_file(tmp_path)
    subprocess.run([str(Path(sys.executable).parent / "ansible-vault"), "encrypt",
                    "--vault-password-file", str(pw), str(f)], check=True,
                   capture_output=True, timeout=120)
    assert f.read_bytes().startswith(b"$ANSIBLE_VAULT;1.1;AES256")
    assert credentials.load(f, pw).get("netpush_password") == DEVICE_PASSWORD


def test_vault_password_from_an_executable_and_from_the_environment(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    f = _vault(tmp_path / "secrets.vault")
    script = tmp_path / "vault-pass.sh"
    script.write_text(f"#!/bin/sh\necho '{VAULT_PASSWORD}'\n")
    script.chmod(0o755)  # a script is run (Ansible's rule), its mode is not a leak
    assert credentials.load(f, script).get("snmp-auth") == SNMP_AUTH
    monkeypatch.setenv(credentials.VAULT_PASSWORD_ENV, str(_password_file(tmp_path)))
    assert credentials.load(f).get("snmp-auth") == SNMP_AUTH


def test_vault_password_asked_when_no_file(tmp_path: Path) -> None:
    f = _vault(tmp_path / "secrets.vault")
    asked: list[str] = []

    def prompt(text: str) -> str:
        asked.append(text)
        return VAULT_PASSWORD
    assert credentials.load(f, prompt=prompt).get("snmp-auth") == SNMP_AUTH
    assert asked == [f"Vault password for {f}: "]


def test_wrong_vault_password_is_one_line(tmp_path: Path) -> None:
    f = _vault(tmp_path / "secrets.vault")
    with pytest.raises(CredentialError) as exc:
        credentials.load(f, _password_file(tmp_path, "Not-The-Password-46"))
    assert str(exc.value) == (f"cannot decrypt {f}: wrong vault password (or not a vault "
                              "for this password)")


def test_vault_without_a_password_and_no_terminal(tmp_path: Path) -> None:
    f = _vault(tmp_path / "secrets.vault")
    code = ("import sys; from pesdc import credentials\n"
            "try:\n credentials.load(sys.argv[1])\n"
            "except credentials.CredentialError as e:\n print(e)")
    out = subprocess.run([sys.executable, "-c", code, str(f)], capture_output=True,
                         text=True, stdin=subprocess.DEVNULL, timeout=60, check=True)
    assert out.stdout.strip() == (f"{f} is encrypted with Ansible Vault: give "
                                  "--vault-password-file FILE or set "
                                  "PESDC_VAULT_PASSWORD_FILE (no terminal to ask on)")


def test_an_open_vault_password_file_is_refused(tmp_path: Path) -> None:
    f = _vault(tmp_path / "secrets.vault")
    pw = _password_file(tmp_path)
    pw.chmod(0o644)
    with pytest.raises(CredentialError, match=f"chmod 600 {pw}"):
        credentials.load(f, pw)


def test_the_decrypted_text_is_checked_as_a_plain_file_is(tmp_path: Path) -> None:
    f = _vault(tmp_path / "secrets.vault", "a: fine-value-1\nb: 99\n")
    with pytest.raises(CredentialError) as exc:
        credentials.load(f, _password_file(tmp_path))
    assert str(exc.value).startswith(f"{f} (decrypted):2: the value of b is a number")


# -- the commands ----------------------------------------------------------------------------


def test_net_apply_reads_the_vault_before_anything_connects(tmp_path: Path) -> None:
    """The vault opens (the run goes on to the lab, which is not up: exit 2 there);
    a wrong password stops it first, in one line; no value in any output."""
    f = _vault(tmp_path / "secrets.vault")
    ok = _run("net", "apply", str(LABCITY), "--lab", NO_LAB, "--secrets", str(f),
              "--vault-password-file", str(_password_file(tmp_path)))
    assert ok.returncode == 2, ok.stderr
    assert f"lab {NO_LAB!r} is not up" in ok.stderr
    assert "decrypt" not in ok.stderr
    bad = _run("net", "apply", str(LABCITY), "--lab", NO_LAB, "--secrets", str(f),
               "--vault-password-file", str(_password_file(tmp_path, "Wrong-Pass-47")))
    assert bad.returncode == 2
    assert bad.stderr == (f"pesdc net apply: cannot decrypt {f}: wrong vault password (or "
                          "not a vault for this password)\n")
    nopw = _run("net", "apply", str(LABCITY), "--lab", NO_LAB, "--secrets", str(f))
    assert nopw.returncode == 2
    assert "give --vault-password-file FILE" in nopw.stderr
    for res in (ok, bad, nopw):
        assert "Traceback" not in res.stderr
        for value in (DEVICE_PASSWORD, SNMP_AUTH, VAULT_PASSWORD):
            assert value not in res.stdout + res.stderr


def test_net_apply_refuses_an_open_plain_file(tmp_path: Path) -> None:
    f = tmp_path / "secrets.yaml"
    f.write_text(SECRETS_YAML)
    f.chmod(0o644)
    res = _run("net", "apply", str(LABCITY), "--lab", NO_LAB, "--secrets", str(f))
    assert res.returncode == 2
    assert res.stderr == (f"pesdc net apply: secrets file {f} is open to group or others "
                          f"(mode 0644): run `chmod 600 {f}`\n")


@pytest.mark.parametrize("command", ["plan", "apply"])
def test_provisioning_takes_secrets_files_too(tmp_path: Path, command: str) -> None:
    f = _vault(tmp_path / "secrets.vault")
    ok = _run(command, str(LABCITY), "--lab", NO_LAB, "--secrets", str(f),
              "--vault-password-file", str(_password_file(tmp_path)))
    assert ok.returncode == 2, ok.stderr
    assert f"lab {NO_LAB!r} is not up" in ok.stderr
    bad = _run(command, str(LABCITY), "--lab", NO_LAB, "--secrets", str(f),
               "--vault-password-file", str(_password_file(tmp_path, "Wrong-Pass-48")))
    assert bad.returncode == 2
    assert bad.stderr == (f"pesdc {command}: cannot decrypt {f}: wrong vault password (or "
                          "not a vault for this password)\n")
    helptext = _run(command, "--help").stdout
    assert "PESDC_SECRET_<NAME> wins" in helptext and "generated once" in helptext
    assert "--vault-password-file" in helptext


# -- provisioning's order: environment, file, generated -------------------------------------


def test_provisioning_secret_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pesdc.provision.secrets import secret

    generated = secret("weihai", "replication_password")  # no file: generated once
    assert generated == secret("weihai", "replication_password")
    credentials.use(credentials.load(_vault(tmp_path / "s.vault"), _password_file(tmp_path)))
    assert secret("weihai", "replication_password") == "Repl-Test-43"
    monkeypatch.setenv("PESDC_SECRET_REPLICATION_PASSWORD", "Repl-Env-Test-49")
    credentials.use(credentials.load(tmp_path / "s.vault", _password_file(tmp_path)))
    assert secret("weihai", "replication_password") == "Repl-Env-Test-49"


def test_backup_key_from_the_vault(tmp_path: Path) -> None:
    from pesdc.provision.secrets import backup_keypair, provisioning_secrets

    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f",
                    str(tmp_path / "k")], check=True, timeout=60)
    key = (tmp_path / "k").read_text()
    body = textwrap.indent(key, "  ")
    credentials.use(credentials.load(
        _vault(tmp_path / "s.vault", f"backup_private_key: |\n{body}"),
        _password_file(tmp_path)))
    priv, pub = backup_keypair("weihai")
    assert priv == key
    assert pub.split()[:2] == (tmp_path / "k.pub").read_text().split()[:2]
    assert provisioning_secrets("weihai")["backup_private_key"] == key
    assert not (tmp_path / "state" / "secrets" / "weihai" / "backup_ed25519").exists()
    # a key in the output of a run is its placeholder, line by line too
    line = key.splitlines()[1]
    assert line not in redact.Redactor()(f"quoted: {line}")


def test_a_bad_backup_key_stops_the_command(tmp_path: Path) -> None:
    f = _private(tmp_path / "secrets.yaml", "backup_private_key: Not-A-Key-Test-50\n")
    res = _run("plan", str(LABCITY), "--lab", NO_LAB, "--secrets", str(f))
    assert res.returncode == 2
    assert res.stderr == (f"pesdc plan: backup_private_key (from {f}) is not a private "
                          "key without a passphrase, in OpenSSH or PEM form\n")


# -- never on a command line --------------------------------------------------------------------


def test_lab_hand_over_goes_through_the_environment_never_argv(tmp_path: Path) -> None:
    """A lab run re-executes itself (pesdc.lab.enter.reexec_inside: the same argv, in the
    controller namespace). Here a real parent loads the vault for a lab run and execs a
    child with the argv reexec_inside would give; the child, without the vault password
    and without a terminal, has the values (from its environment), by their names, and
    neither its argv nor /proc/self/cmdline holds one."""
    f = _vault(tmp_path / "secrets.vault")
    pw = _password_file(tmp_path)
    child = tmp_path / "child.py"
    child.write_text(textwrap.dedent("""\
        import sys
        from pathlib import Path
        from pesdc import redact
        from pesdc.netpush.secrets import Secrets
        s = Secrets.load(Path(sys.argv[sys.argv.index("--secrets") + 1]))
        print("cmdline", open("/proc/self/cmdline", "rb").read().decode())
        print("value-seen", s.get("snmp-auth") is not None, s.get("netpush_password") is not None)
        print("redacted", redact.Redactor()("auth " + s.get("snmp-auth")))
        print("secrets-redact", s.redact("auth " + s.get("snmp-auth")))
        """))
    parent = textwrap.dedent(f"""\
        import os, sys
        from pathlib import Path
        from pesdc import credentials
        from pesdc.lab import netns
        sys.argv = ["pesdc", "net", "apply", "x", "--lab", "L", "--secrets", {str(f)!r},
                    "--vault-password-file", {str(pw)!r}]
        credentials.load_for_cli("net apply", Path({str(f)!r}), Path({str(pw)!r}), "L")
        os.environ[credentials.VAULT_PASSWORD_ENV] = "/nonexistent"  # no second reading
        would = netns.ns_exec("pesdc-L-ctl", sys.executable, "-m", "pesdc", *sys.argv[1:])
        print("reexec-argv", " ".join(would), flush=True)
        argv = [sys.executable, {str(child)!r}, *sys.argv[1:]]
        argv.remove("--vault-password-file"); argv.remove({str(pw)!r})
        os.execv(sys.executable, argv)
        """)
    res = subprocess.run([sys.executable, "-c", parent], capture_output=True, text=True,
                         stdin=subprocess.DEVNULL, timeout=60)
    assert res.returncode == 0, res.stderr
    out = res.stdout
    assert "value-seen True True" in out
    assert "redacted auth %%PESDC_SECRET:snmp-auth%%" in out
    assert "secrets-redact auth %%PESDC_SECRET:snmp-auth%%" in out  # the name, not snmp_auth
    assert "reexec-argv" in out and "cmdline" in out
    for value in (DEVICE_PASSWORD, SNMP_AUTH, VAULT_PASSWORD, "Repl-Test-43"):
        assert value not in out + res.stderr


def test_netpush_child_environment_keeps_names(tmp_path: Path) -> None:
    """netpush's lab child (engine._run_in_lab) gets ``{**os.environ, **secrets.as_env()}``
    and loads Secrets with no file (pesdc.netpush.inlab): the names survive, so its
    redaction gives the rendered placeholders back; a real child reads them."""
    s = Secrets.load(_vault(tmp_path / "s.vault"), vault_password_file=_password_file(tmp_path))
    env = {**os.environ, **s.as_env()}
    assert env["PESDC_SECRET_SNMP_AUTH"] == SNMP_AUTH
    assert env[credentials.NAMES_ENV].split(",") == sorted(
        ["netpush_username", "netpush_password", "snmp-auth", "replication_password"])
    code = ("from pesdc.netpush.secrets import Secrets; s = Secrets.load();"
            "print(s.redact('snmp ' + s.get('snmp-auth')))")
    argv = [sys.executable, "-c", code]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, text=True)
    cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().decode()
    out, _ = proc.communicate(timeout=60)
    assert out.strip() == "snmp %%PESDC_SECRET:snmp-auth%%"
    for value in (SNMP_AUTH, DEVICE_PASSWORD):
        assert value not in " ".join(argv) and value not in cmdline


def test_credentials_without_a_file_are_the_environment(monkeypatch: pytest.MonkeyPatch
                                                        ) -> None:
    monkeypatch.setenv("PESDC_SECRET_NETPUSH_ENABLE", "Enable-Test-51")
    c = credentials.active()
    assert isinstance(c, Credentials)
    assert c.get("netpush_enable") == "Enable-Test-51"
    assert c.names() == []


def test_vault_password_typed_on_a_terminal(tmp_path: Path) -> None:
    """On a terminal (a real pseudo-terminal here) the password is asked with getpass,
    not echoed, and the run goes on (to the lab, which is not up)."""
    import pty
    import select

    f = _vault(tmp_path / "secrets.vault")
    pid, fd = pty.fork()
    if pid == 0:  # the child: pesdc on the terminal
        os.execv(sys.executable, [*PESDC, "net", "apply", str(LABCITY), "--lab", NO_LAB,
                                  "--secrets", str(f)])
    seen = b""
    sent = False
    while True:
        ready, _, _ = select.select([fd], [], [], 60)
        if not ready:
            break
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        seen += chunk
        if not sent and b"Vault password for" in seen:
            os.write(fd, VAULT_PASSWORD.encode() + b"\n")
            sent = True
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    text = seen.decode(errors="replace")
    assert sent, text
    assert os.waitstatus_to_exitcode(status) == 2, text
    assert f"lab {NO_LAB!r} is not up" in text
    assert VAULT_PASSWORD not in text and DEVICE_PASSWORD not in text

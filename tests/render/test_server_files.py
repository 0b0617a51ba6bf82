"""The server configuration files (templates/linux/server/), checked by the real parsers.

Each file the mini tree's city renders is written to a temporary directory and handed to
the program that reads it on a server: sshd -t/-T, visudo -c and cvtsudoers, rsyslogd -N1,
logrotate -d, chronyd -p, libpwquality (python3-pwquality), shadow's useradd, the shells,
sysctl; the auditd rules go through a parser of auditctl's argument syntax whose syscall
names are checked by ausyscall (loading rules needs the kernel's audit subsystem).
A check fails when its tool is not installed (scripts/setup.sh installs them); the sshd
checks are `lab` tests: without a running sshd's /run/sshd they need root to make one.
"""

from __future__ import annotations

import errno
import json
import re
import shlex
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from pesdc.model import validate
from pesdc.render.context import CenterFacts, server_context
from pesdc.render.servers import SERVER_FILES, render_server
from tests.conftest import MINI, require_root, require_tool

CITY = "jinan"
SYSTEM_PYTHON = "/usr/bin/python3"  # python3-pwquality is a Debian package, not in the venv

Rendered = dict[str, dict[str, str]]  # server -> relative path -> text


def _render_tree(tree: Path) -> tuple[Rendered, dict[str, str], CenterFacts]:
    result = validate([tree])
    assert not result.report.errors, [d.message for d in result.report.errors]
    topo = result.topology
    dc = topo.datacenters[CITY]
    facts = CenterFacts.of(topo, dc)
    out = {srv.name: render_server(facts, srv) for srv in dc.servers}
    return out, {srv.name: srv.os.value for srv in dc.servers}, facts


@pytest.fixture(scope="module")
def rendered() -> Rendered:
    return _render_tree(MINI)[0]


def _rhel_tree(tree: Path) -> Path:
    city = tree / "city.yaml"
    text = city.read_text(encoding="utf-8")
    assert "all: {os: debian}" in text
    city.write_text(text.replace("all: {os: debian}", "all: {os: rhel}"), encoding="utf-8")
    return tree


@pytest.fixture(scope="module")
def rendered_rhel(tmp_path_factory: pytest.TempPathFactory) -> Rendered:
    tree = tmp_path_factory.mktemp("rhel") / "mini"
    shutil.copytree(MINI, tree)
    return _render_tree(_rhel_tree(tree))[0]


def _tool(name: str) -> str:
    return shutil.which(name) or require_tool(name, "Debian 12 or its Debian package",
                                              path="/usr/sbin:/sbin:/usr/bin:/bin")


def _run(args: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False,
                          **kw)  # type: ignore[call-overload]


def _write(tmp_path: Path, name: str, text: str, mode: int = 0o644) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def _kv(text: str, sep: str | None = None) -> dict[str, str]:
    """key value / key = value lines, comments and blank lines skipped."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if sep:
            key, _, value = line.partition(sep)
        else:
            key, _, value = line.partition(" ") if " " in line else line.partition("\t")
        out[key.strip()] = value.strip()
    return out


def _each_server(rendered: Rendered, path: str) -> list[tuple[str, str]]:
    items = [(name, files[path]) for name, files in sorted(rendered.items()) if path in files]
    assert items, f"no server renders {path}"
    return items


# ---------------------------------------------------------------- what is rendered where


def test_every_server_file_has_a_template_and_a_header(rendered: Rendered) -> None:
    for f in SERVER_FILES:
        if f.template == "issue.net.j2":
            continue  # shown verbatim to whoever connects: no comment syntax, no header
        for files in rendered.values():
            text = files.get(f.dest["debian"].lstrip("/"))
            if text is not None:
                assert text.startswith(
                    f"# managed by pesdc; GB/T 22239-2019 {f.control}: "), (f.template, text)


def test_logserver_gets_the_server_config_and_not_the_forward_config(
        rendered: Rendered) -> None:
    forward = "etc/rsyslog.d/50-pesdc-forward.conf"
    server = "etc/rsyslog.d/10-pesdc-server.conf"
    rotate = "etc/logrotate.d/pesdc-remote"
    assert server in rendered["log-1"] and rotate in rendered["log-1"]
    assert forward not in rendered["log-1"]
    for name, files in rendered.items():
        if name != "log-1":
            assert forward in files and server not in files and rotate not in files, name
            assert 'target="10.38.9.10"' in files[forward]


def test_rendering_twice_is_byte_identical(rendered: Rendered) -> None:
    again, _, _ = _render_tree(MINI)
    assert again == rendered


def test_values_come_from_the_topology(mini_tree: Path) -> None:
    city = mini_tree / "city.yaml"
    text = city.read_text(encoding="utf-8")
    text = text.replace("  stage: 2\n", "  stage: 2\n  security: {password_min_length: 17, "
                        "login_fail_attempts: 4, lockout_minutes: 30, idle_timeout_minutes: 7, "
                        "password_max_days: 60, log_retention_days: 200, "
                        "admins: {system: ops1, audit: aud1, security: sec1}}\n")
    city.write_text(text, encoding="utf-8")
    out, _, _ = _render_tree(mini_tree)
    web = out["web-1"]
    assert _kv(web["etc/security/pwquality.conf"], "=")["minlen"] == "17"
    faillock = _kv(web["etc/security/faillock.conf"], "=")
    assert faillock["deny"] == "4" and faillock["unlock_time"] == "1800"
    defs = _kv(web["etc/login.defs"])
    assert defs["PASS_MAX_DAYS"] == "60" and defs["LOGIN_RETRIES"] == "4"
    sshd = _kv(web["etc/ssh/sshd_config"])
    assert sshd["MaxAuthTries"] == "4" and sshd["ClientAliveInterval"] == "420"
    assert "TMOUT=420" in web["etc/profile.d/pesdc-tmout.sh"]
    sudoers = web["etc/sudoers.d/50-pesdc-admins"]
    assert re.search(r"^ops1\s", sudoers, re.M) and re.search(r"^aud1\s", sudoers, re.M)
    assert re.search(r"^sec1\s", sudoers, re.M) and "sysadmin" not in sudoers
    assert "rotate 200" in out["log-1"]["etc/logrotate.d/pesdc-remote"]


def test_rhel_paths_differ_where_they_should(rendered: Rendered,
                                             rendered_rhel: Rendered) -> None:
    deb, rhel = rendered["ntp-1"], rendered_rhel["ntp-1"]
    assert "etc/chrony/chrony.conf" in deb and "etc/chrony.conf" in rhel
    assert "etc/chrony.conf" not in deb and "etc/chrony/chrony.conf" not in rhel
    assert "Subsystem sftp /usr/lib/openssh/sftp-server" in deb["etc/ssh/sshd_config"]
    assert "Subsystem sftp /usr/libexec/openssh/sftp-server" in rhel["etc/ssh/sshd_config"]
    assert "driftfile /var/lib/chrony/chrony.drift" in deb["etc/chrony/chrony.conf"]
    assert "driftfile /var/lib/chrony/drift" in rhel["etc/chrony.conf"]
    assert "/usr/bin/apt-get" in deb["etc/sudoers.d/50-pesdc-admins"]
    assert "/usr/bin/dnf" in rhel["etc/sudoers.d/50-pesdc-admins"]
    assert "/usr/bin/firewall-cmd" in rhel["etc/sudoers.d/50-pesdc-admins"]
    assert "/usr/lib/openssh/ssh-keysign" in deb["etc/audit/rules.d/50-pesdc.rules"]
    assert "/usr/libexec/openssh/ssh-keysign" in rhel["etc/audit/rules.d/50-pesdc.rules"]
    assert "/var/spool/rsyslog" in deb["etc/rsyslog.d/50-pesdc-forward.conf"]
    assert "/var/lib/rsyslog" in rhel["etc/rsyslog.d/50-pesdc-forward.conf"]
    assert "MAIL_DIR\t\t/var/spool/mail" in rhel["etc/login.defs"]
    assert "/usr/lib/rsyslog/rsyslog-rotate" in rendered["log-1"]["etc/logrotate.d/pesdc-remote"]
    assert "systemctl kill -s HUP rsyslog" in rendered_rhel["log-1"][
        "etc/logrotate.d/pesdc-remote"]


def test_context_only_adds_keys() -> None:
    _, _, facts = _render_tree(MINI)
    srv = facts.dc.servers[0]
    ctx = server_context(facts, srv)
    assert ctx["deploy_user"] == "pesdc" and ctx["audit_immutable"] is False
    assert ctx["room_nets"] == ["10.38.200.0/24"]  # talent-1 lives in talent-room


# ---------------------------------------------------------------- sshd


def _sshd(tmp_path: Path) -> Callable[[list[str]], subprocess.CompletedProcess[str]]:
    """Run sshd with a throwaway host key; sshd insists on /run/sshd existing, so when the
    host has none (no sshd running) it runs in a private mount namespace with its own /run."""
    sshd = _tool("sshd")
    keygen = _tool("ssh-keygen")
    key = tmp_path / "hostkey"
    if not key.exists():
        subprocess.run([keygen, "-q", "-t", "ed25519", "-N", "", "-f", str(key)], check=True)

    def run(args: list[str]) -> subprocess.CompletedProcess[str]:
        cmd = [sshd, *args, "-o", f"HostKey={key}"]
        if Path("/run/sshd").is_dir():
            return _run(cmd)
        require_root("sshd needs /run/sshd: only root can make a private one")
        unshare = require_tool("unshare", "Debian util-linux")
        script = ("mount -t tmpfs tmpfs /run && mkdir -m 0755 /run/sshd && exec "
                  + shlex.join(cmd))
        proc = _run([unshare, "-m", "sh", "-c", script])
        if "mount" in proc.stderr and "permission denied" in proc.stderr.lower():
            pytest.skip(f"cannot mount a private /run for sshd: {proc.stderr.strip()}")
        return proc

    return run


@pytest.mark.lab
@pytest.mark.parametrize("family", ["debian", "rhel"])
def test_sshd_config_passes_sshd_t(rendered: Rendered, rendered_rhel: Rendered,
                                   family: str, tmp_path: Path) -> None:
    sshd = _sshd(tmp_path)
    src = rendered if family == "debian" else rendered_rhel
    for name, text in _each_server(src, "etc/ssh/sshd_config"):
        conf = _write(tmp_path, f"{name}.sshd_config", text, 0o600)
        proc = sshd(["-t", "-f", str(conf)])
        assert proc.returncode == 0, (name, proc.stderr)
        assert "Protocol" not in _kv(text)


@pytest.mark.lab
def test_sshd_effective_settings(rendered: Rendered, tmp_path: Path) -> None:
    sshd = _sshd(tmp_path)
    conf = _write(tmp_path, "sshd_config", rendered["mis-1"]["etc/ssh/sshd_config"], 0o600)
    proc = sshd(["-T", "-f", str(conf), "-C",
                 "user=sysadmin,host=bastion,addr=10.38.9.20,laddr=10.38.1.10,lport=22"])
    assert proc.returncode == 0, proc.stderr
    eff: dict[str, list[str]] = {}
    for line in proc.stdout.splitlines():
        key, _, value = line.partition(" ")
        eff.setdefault(key, []).append(value)
    assert eff["permitrootlogin"] == ["no"]
    assert eff["maxauthtries"] == ["5"]
    assert eff["clientaliveinterval"] == ["600"] and eff["clientalivecountmax"] == ["1"]
    assert eff["logingracetime"] == ["60"]
    assert eff["passwordauthentication"] == ["yes"] and eff["pubkeyauthentication"] == ["yes"]
    assert eff["kbdinteractiveauthentication"] == ["no"]
    assert eff["x11forwarding"] == ["no"] and eff["allowtcpforwarding"] == ["no"]
    assert eff["usepam"] == ["yes"] and eff["usedns"] == ["no"]
    assert eff["loglevel"] == ["VERBOSE"] and eff["syslogfacility"] == ["AUTHPRIV"]
    assert eff["banner"] == ["/etc/issue.net"]
    assert sorted(eff["allowusers"]) == ["*@10.38.9.0/24", "pesdc@10.38.9.0/24"]
    weak = ("cbc", "hmac-md5", "hmac-sha1", "diffie-hellman-group1-", "group14-sha1")
    for key in ("ciphers", "macs", "kexalgorithms"):
        assert not any(w in eff[key][0] for w in weak), eff[key]


# ---------------------------------------------------------------- sudoers


def test_sudoers_passes_visudo(rendered: Rendered, rendered_rhel: Rendered,
                               tmp_path: Path) -> None:
    visudo = _tool("visudo")
    for family, src in (("debian", rendered), ("rhel", rendered_rhel)):
        for name, text in _each_server(src, "etc/sudoers.d/50-pesdc-admins"):
            path = _write(tmp_path, f"{family}-{name}.sudoers", text, 0o440)
            proc = _run([visudo, "-c", "-f", str(path)])
            assert proc.returncode == 0, (family, name, proc.stdout, proc.stderr)
            assert "parsed OK" in proc.stdout


def _sudo_commands(cvt: str, path: Path, user: str) -> tuple[set[str], set[str]]:
    """(allowed, negated) commands of a user, as sudo's own parser (cvtsudoers) reads them."""
    proc = _run([cvt, "-f", "json", "-m", f"user={user}", "-e", str(path)])
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    allowed: set[str] = set()
    negated: set[str] = set()

    def walk(node: object, negate: bool = False) -> None:
        if isinstance(node, dict):
            if "command" in node and isinstance(node["command"], str):
                (negated if negate ^ bool(node.get("negated")) else allowed).add(
                    node["command"])
            for value in node.values():
                walk(value, negate)
        elif isinstance(node, list):
            for item in node:
                walk(item, negate)

    walk(data.get("User_Specs", []))
    return allowed, negated


def test_sudoers_separates_the_three_administrators(rendered: Rendered,
                                                     tmp_path: Path) -> None:
    cvt = _tool("cvtsudoers")
    path = _write(tmp_path, "sudoers", rendered["db-1"]["etc/sudoers.d/50-pesdc-admins"],
                  0o440)
    sys_ok, sys_no = _sudo_commands(cvt, path, "sysadmin")
    aud_ok, _ = _sudo_commands(cvt, path, "auditadmin")
    sec_ok, sec_no = _sudo_commands(cvt, path, "secadmin")

    def progs(cmds: set[str]) -> set[str]:
        return {c.split()[0] for c in cmds}

    audit_read = {"/usr/sbin/ausearch", "/usr/sbin/aureport", "/usr/bin/journalctl"}
    assert audit_read <= aud_ok  # any arguments
    assert not audit_read & progs(sys_ok | sec_ok)
    # The audit administrator may look at the audit rules, never change them.
    assert {c for c in aud_ok if c.startswith("/usr/sbin/auditctl")} == {
        "/usr/sbin/auditctl -s", "/usr/sbin/auditctl -l"}
    assert not any(c.startswith("/usr/sbin/auditd") for c in aud_ok)
    security = {"/usr/sbin/useradd", "/usr/bin/passwd", "/usr/sbin/faillock", "/usr/sbin/nft",
                "/usr/sbin/auditctl", "/usr/sbin/augenrules"}
    assert security <= sec_ok
    assert not (security - {"/usr/sbin/auditctl"}) & progs(sys_ok | aud_ok)
    assert not {"/usr/sbin/auditctl", "/usr/sbin/augenrules"} & progs(sys_ok)
    # The system administrator runs services, but not the audit and log services.
    assert "/usr/bin/systemctl restart *" in sys_ok
    assert "/usr/bin/systemctl * auditd" in sys_no and "/usr/bin/systemctl * rsyslog" in sys_no
    assert "/usr/bin/systemctl * auditd" in sec_ok
    assert "/usr/bin/passwd root" in sec_no  # not root's password
    assert not any(c.split()[0] in ("ALL", "/bin/sh", "/bin/bash", "/usr/bin/bash")
                   for c in sys_ok | aud_ok | sec_ok)
    text = path.read_text(encoding="utf-8")
    assert re.search(r"^Defaults\s+use_pty$", text, re.M)
    assert re.search(r'^Defaults\s+logfile="/var/log/sudo.log"$', text, re.M)


# ---------------------------------------------------------------- rsyslog and logrotate


def test_rsyslog_files_pass_rsyslogd_n1(rendered: Rendered, rendered_rhel: Rendered,
                                        tmp_path: Path) -> None:
    rsyslogd = _tool("rsyslogd")
    for family, src in (("debian", rendered), ("rhel", rendered_rhel)):
        for rel in ("etc/rsyslog.d/50-pesdc-forward.conf", "etc/rsyslog.d/10-pesdc-server.conf"):
            for name, text in _each_server(src, rel):
                conf = _write(tmp_path, f"{family}-{name}-{Path(rel).name}", text)
                proc = _run([rsyslogd, "-N1", "-f", str(conf)])
                assert proc.returncode == 0, (family, name, proc.stdout, proc.stderr)
                assert "error" not in (proc.stdout + proc.stderr).lower(), proc.stderr


def test_rsyslog_forward_and_server_content(rendered: Rendered) -> None:
    fwd = rendered["web-1"]["etc/rsyslog.d/50-pesdc-forward.conf"]
    assert 'protocol="tcp"' in fwd and 'port="514"' in fwd
    assert 'action.resumeRetryCount="-1"' in fwd and 'queue.filename="' in fwd
    assert 'queue.saveOnShutdown="on"' in fwd
    srv = rendered["log-1"]["etc/rsyslog.d/10-pesdc-server.conf"]
    assert 'input(type="imtcp" port="514"' in srv and 'input(type="imudp" port="514"' in srv
    assert "/var/log/remote/%HOSTNAME:::secpath-replace%/" in srv
    for net in ("10.38.1.0/24", "10.38.9.0/24", "10.38.200.0/24"):
        assert f"$AllowedSender TCP, {net}" in srv


def test_logrotate_passes_logrotate_d(rendered: Rendered, tmp_path: Path) -> None:
    logrotate = _tool("logrotate")
    text = rendered["log-1"]["etc/logrotate.d/pesdc-remote"]
    conf = _write(tmp_path, "pesdc-remote", text)
    proc = _run([logrotate, "-d", "-s", str(tmp_path / "state"), str(conf)])
    assert proc.returncode == 0, proc.stderr
    assert "error" not in proc.stderr.lower(), proc.stderr
    assert "/var/log/remote/*/*.log" in proc.stderr  # logrotate -d reports what it read
    rotate = re.search(r"^\s*rotate (\d+)$", text, re.M)
    assert rotate and int(rotate.group(1)) >= 180
    for word in ("daily", "compress", "missingok"):
        assert re.search(rf"^\s*{word}$", text, re.M)


# ---------------------------------------------------------------- chrony


def test_chrony_conf_passes_chronyd_p(rendered: Rendered, rendered_rhel: Rendered,
                                      tmp_path: Path) -> None:
    chronyd = _tool("chronyd")
    for family, src in (("debian", rendered), ("rhel", rendered_rhel)):
        rel = "etc/chrony/chrony.conf" if family == "debian" else "etc/chrony.conf"
        for name, text in _each_server(src, rel):
            conf = _write(tmp_path, f"{family}-{name}-chrony.conf", text)
            # -p: parse the file and print the directives it understood, then exit.
            proc = _run([chronyd, "-p", "-f", str(conf)])
            assert proc.returncode == 0, (family, name, proc.stderr)
            printed = [ln for ln in proc.stdout.splitlines() if ln.strip()]
            assert printed, proc.stdout
    source = rendered["ntp-1"]["etc/chrony/chrony.conf"]
    assert re.search(r"^local stratum 8", source, re.M)
    assert "allow 10.38.2.0/24" in source and "allow 10.38.200.0/24" in source
    assert "server 10.38.9.11" not in source  # a time source does not poll itself
    client = rendered["web-1"]["etc/chrony/chrony.conf"]
    assert "server 10.38.9.11 iburst" in client
    assert "local stratum" not in client and "allow " not in client


# ---------------------------------------------------------------- PAM and shadow


_PWQ_CHECK = """
import json, sys, pwquality
s = pwquality.PWQSettings()
s.read_config(sys.argv[1])
out = {"minlen": s.minlen, "minclass": s.minclass, "maxrepeat": s.maxrepeat,
       "dcredit": s.dcredit, "ucredit": s.ucredit, "lcredit": s.lcredit,
       "ocredit": s.ocredit, "enforce_for_root": s.enforce_for_root, "retry": s.retry,
       "results": {}}
for pw in sys.argv[2:]:
    try:
        out["results"][pw] = s.check(pw, None, "alice")
    except pwquality.PWQError as e:
        out["results"][pw] = str(e.args[1])
print(json.dumps(out))
"""


def test_pwquality_with_libpwquality(rendered: Rendered, tmp_path: Path) -> None:
    text = rendered["web-1"]["etc/security/pwquality.conf"]
    conf = _write(tmp_path, "pwquality.conf", text)
    probe = _run([SYSTEM_PYTHON, "-c", "import pwquality"]) if Path(
        SYSTEM_PYTHON).exists() else None
    if probe is None or probe.returncode != 0:
        pytest.fail("python3-pwquality is not installed: scripts/setup.sh installs it; run "
                    "scripts/setup.sh", pytrace=False)
    weak = ["Summer2024", "abcdefghijkl", "Aa1!Aa1!", "aaaaBBBB1111!!!!"]
    strong = "Vq7#mRt2!kLp9zX"
    proc = _run([SYSTEM_PYTHON, "-c", _PWQ_CHECK, str(conf), *weak, strong])
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert out["minlen"] == 12 and out["minclass"] == 3 and out["maxrepeat"] == 3
    assert (out["dcredit"], out["ucredit"], out["lcredit"], out["ocredit"]) == (-1, -1, -1, -1)
    assert out["enforce_for_root"] == 1 and out["retry"] == 3
    for pw in weak:
        assert isinstance(out["results"][pw], str), (pw, out["results"][pw])  # rejected
    assert isinstance(out["results"][strong], int), out["results"][strong]  # a score


_FAILLOCK_KEYS = {"dir", "audit", "silent", "no_log_info", "local_users_only", "nodelay",
                  "deny", "fail_interval", "unlock_time", "even_deny_root",
                  "root_unlock_time", "admin_group"}


def test_faillock_conf_grammar_and_values(rendered: Rendered) -> None:
    # faillock.conf(5): "name = value" or a bare flag; pam_faillock cannot be run outside a
    # PAM conversation, so the grammar is checked here.
    for _, text in _each_server(rendered, "etc/security/faillock.conf"):
        seen: dict[str, str] = {}
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            key, eq, value = (p.strip() for p in line.partition("="))
            assert key in _FAILLOCK_KEYS, key
            assert key not in seen, key
            if eq:
                assert value and (value.isdigit() or key in ("dir", "admin_group")), line
            seen[key] = value
        assert seen["deny"] == "5"
        assert seen["unlock_time"] == seen["root_unlock_time"] == "900"
        assert seen["fail_interval"] == "900" and "audit" in seen
        assert "even_deny_root" not in seen


def test_login_defs_with_shadow(rendered: Rendered, rendered_rhel: Rendered,
                                tmp_path: Path) -> None:
    useradd = _tool("useradd")
    for family, src in (("debian", rendered), ("rhel", rendered_rhel)):
        text = src["db-1"]["etc/login.defs"]
        prefix = tmp_path / family
        _write(prefix, "etc/login.defs", text)
        # shadow reads PREFIX/etc/login.defs and names every item it does not know.
        proc = _run([useradd, "-P", str(prefix), "-D"])
        assert "configuration error" not in proc.stderr, (family, proc.stderr)
        defs = _kv(text)
        assert defs["PASS_MAX_DAYS"] == "90" and defs["PASS_MIN_DAYS"] == "1"
        assert defs["PASS_WARN_AGE"] == "7" and defs["UMASK"] == "027"
        assert defs["ENCRYPT_METHOD"] in ("SHA512", "YESCRYPT")
        for key in ("UID_MIN", "UID_MAX", "GID_MIN", "GID_MAX", "SYS_UID_MIN", "SYS_UID_MAX"):
            assert defs[key].isdigit(), key
        assert len(defs) == len([ln for ln in text.splitlines()
                                 if ln.strip() and not ln.startswith("#")])  # no duplicates


@pytest.mark.parametrize("shell", ["sh", "bash"])
def test_tmout_profile_in_real_shells(rendered: Rendered, tmp_path: Path,
                                      shell: str) -> None:
    exe = _tool(shell)
    script = _write(tmp_path, "pesdc-tmout.sh", rendered["web-1"]["etc/profile.d/pesdc-tmout.sh"])
    assert _run([exe, "-n", str(script)]).returncode == 0
    # Sourced twice (nested login shells) without error; read-only and exported.
    proc = _run([exe, "-c", f'. {script}; . {script}; echo "TMOUT=$TMOUT"; '
                 'sh -c \'echo "child=$TMOUT"\'; TMOUT=0 || true; echo "after=$TMOUT"'])
    assert "TMOUT=600" in proc.stdout and "child=600" in proc.stdout, proc
    assert "after=0" not in proc.stdout, proc.stdout
    assert "readonly" in proc.stderr.lower() or "read-only" in proc.stderr.lower() \
        or "read only" in proc.stderr.lower(), proc.stderr


def test_issue_net_is_the_banner(rendered: Rendered) -> None:
    text = rendered["web-1"]["etc/issue.net"]
    assert text.startswith("Authorized use only.") and "仅限授权使用" in text
    assert "济南市人社数据中心" in text


# ---------------------------------------------------------------- sysctl


def test_sysctl_keys_exist_in_this_kernel(rendered: Rendered) -> None:
    sysctl = _tool("sysctl")
    text = rendered["web-1"]["etc/sysctl.d/90-pesdc.conf"]
    conf = _kv(text, "=")
    expected = {
        "kernel.kptr_restrict": "2", "kernel.dmesg_restrict": "1",
        "kernel.randomize_va_space": "2", "fs.suid_dumpable": "0",
        "fs.protected_hardlinks": "1", "fs.protected_symlinks": "1",
        "net.ipv4.ip_forward": "0", "net.ipv4.tcp_syncookies": "1",
        "net.ipv4.conf.all.rp_filter": "1", "net.ipv4.conf.all.accept_redirects": "0",
        "net.ipv4.conf.all.send_redirects": "0", "net.ipv4.conf.all.accept_source_route": "0",
    }
    for key, value in expected.items():
        assert conf.get(key) == value, key
    present = 0
    for key, value in conf.items():
        assert re.fullmatch(r"[a-z0-9_]+(\.[a-z0-9_]+)+", key), key
        assert re.fullmatch(r"-?\d+", value), (key, value)
        if not Path("/proc/sys", *key.split(".")).exists():
            continue  # not in this kernel or not visible in this namespace (container)
        proc = _run([sysctl, "-n", key])
        assert proc.returncode == 0, (key, proc.stderr)
        present += 1
    assert present >= len(conf) // 2, "most keys should exist in any Linux >= 4.19"


# ---------------------------------------------------------------- auditd rules


_AUDIT_FIELDS = {
    "a0", "a1", "a2", "a3", "arch", "auid", "devmajor", "devminor", "dir", "egid", "euid",
    "exe", "exit", "fsgid", "fstype", "fsuid", "filetype", "gid", "inode", "key", "msgtype",
    "obj_uid", "obj_gid", "path", "perm", "pers", "pid", "ppid", "saddr_fam", "sessionid",
    "sgid", "subj_type", "subj_user", "subj_role", "success", "suid", "uid", "loginuid",
}
_ARCHES = {"b64": "x86_64", "b32": "i386"}
_OPS = ("!=", ">=", "<=", "&=", "=", ">", "<", "&")


def _ausyscall_known(ausyscall: str, arch: str, name: str) -> bool:
    proc = _run([ausyscall, arch, name, "--exact"])
    return proc.returncode == 0 and proc.stdout.strip().isdigit()


def _check_audit_line(tokens: list[str], ausyscall: str | None) -> None:
    """One rules-file line, checked as auditctl(8) parses its arguments."""
    opt, args = tokens[0], tokens[1:]
    if opt in ("-b", "--backlog_wait_time", "-r"):
        assert len(args) == 1 and args[0].isdigit(), tokens
        return
    if opt == "-f":
        assert args in (["0"], ["1"], ["2"]), tokens
        return
    if opt == "-e":
        assert args in (["0"], ["1"], ["2"]), tokens
        return
    if opt == "-w":
        path, rest = args[0], args[1:]
        assert path.startswith("/") and " " not in path, tokens
        pairs = dict(zip(rest[::2], rest[1::2], strict=True))
        assert set(pairs) <= {"-p", "-k"} and "-k" in pairs, tokens
        assert pairs["-p"] and set(pairs["-p"]) <= set("rwxa"), tokens
        return
    assert opt == "-a", tokens
    action, _, filt = args[0].partition(",")
    assert action in ("always", "never") and filt in ("exit", "task", "user", "exclude",
                                                      "filesystem", "io_uring"), tokens
    arch = None
    syscalls: list[str] = []
    has_key = False
    rest = args[1:]
    assert len(rest) % 2 == 0, tokens
    for flag, value in zip(rest[::2], rest[1::2], strict=True):
        if flag == "-F":
            op = next(o for o in _OPS if o in value)
            field, val = value.split(op, 1)
            assert field in _AUDIT_FIELDS and val, tokens
            if field == "arch":
                assert not syscalls, f"arch must come before -S: {tokens}"
                arch = val
                assert arch in _ARCHES, tokens
            elif field in ("auid", "uid", "euid", "gid", "egid"):
                assert val.isdigit() or val in ("unset", "-1"), tokens
            elif field == "exit":
                assert val.lstrip("-").isdigit() or (
                    val.startswith("-E") and hasattr(errno, val[1:])), tokens
            elif field == "perm":
                assert set(val) <= set("rwxa"), tokens
            elif field == "path":
                assert val.startswith("/"), tokens
        elif flag == "-S":
            syscalls.extend(value.split(","))
        elif flag == "-k":
            assert re.fullmatch(r"[A-Za-z0-9_-]{1,31}", value), tokens
            has_key = True
        else:
            raise AssertionError(f"unknown option {flag}: {tokens}")
    assert has_key, tokens
    if syscalls:
        assert arch is not None, f"syscall rules name their arch: {tokens}"
        if ausyscall:
            for sc in syscalls:
                assert _ausyscall_known(ausyscall, _ARCHES[arch], sc), (arch, sc)
    else:
        assert any(v.startswith("path=") for v in rest[1::2]), tokens


def test_audit_rules_parse_as_auditctl_arguments(rendered: Rendered,
                                                 rendered_rhel: Rendered) -> None:
    ausyscall = shutil.which("ausyscall") or shutil.which("ausyscall", path="/usr/bin:/usr/sbin")
    for src in (rendered, rendered_rhel):
        for name, text in _each_server(src, "etc/audit/rules.d/50-pesdc.rules"):
            keys = set()
            for line in text.splitlines():
                if not line.strip() or line.lstrip().startswith("#"):
                    continue
                tokens = shlex.split(line)
                _check_audit_line(tokens, ausyscall)
                if "-k" in tokens:
                    keys.add(tokens[tokens.index("-k") + 1])
                assert tokens != ["-e", "2"], f"{name}: immutability is off by default"
            assert {"identity", "sudoers", "sshd", "logins", "session", "time-change",
                    "privileged", "auditconfig"} <= keys
    if ausyscall is None:
        pytest.fail("ausyscall is not installed (syscall names were not checked): "
                    "scripts/setup.sh installs it (Debian auditd); run scripts/setup.sh",
                    pytrace=False)


def test_audit_immutable_flag(tmp_path: Path) -> None:
    from pesdc.render.engine import render_template

    _, _, facts = _render_tree(MINI)
    ctx = server_context(facts, facts.dc.servers[0])
    ctx["audit_immutable"] = True
    text = render_template("linux/server/audit.rules.j2", ctx)
    rules = [ln for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    assert rules[-1] == "-e 2"

"""Secrets never reach an output (issue 12, point 5).

The redactor (pesdc.redact) alone: each secret form masked, known values back to their
placeholders, placeholders and ordinary configuration untouched. Then every writer:
audit json/html/md/junit, verify junit/html, netpush backups and results, the journal.
Last, the example runs that need no lab, with the tests' secret values set through the
environment, a secrets file and provisioning's state directory, and every file they
wrote scanned for those values.
"""

from __future__ import annotations

import html
import json
import logging
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from pesdc import redact
from pesdc.audit import report as rp
from pesdc.audit.engine import AuditOptions, run_audit
from pesdc.audit.result import AuditReport, Evidence, Msg, Outcome, Status, Waiver
from pesdc.netpush.drivers import ConnParams, Driver
from pesdc.netpush.engine import Target, apply_device
from pesdc.netpush.secrets import Secrets
from pesdc.redact import MASK, mask_shapes, replace_known
from pesdc.results import RunResult
from pesdc.verify.checks import Check, VerifyReport
from tests.audit.conftest import LABCITY, NONCOMPLIANT, ROOT, context, load, recorded
from tests.netpush.fake import FakeDevice, load_session
from tests.secret_scan import assert_no_secrets, forms, leaks

# (a quoted line, the secret in it): vendor forms, then Linux and application forms.
SECRET_FORMS = [
    ("local-user netadmin password cipher Hw-Cipher-Pw1", "Hw-Cipher-Pw1"),
    ("local-user netadmin password irreversible-cipher Hw-Irrev-Pw2", "Hw-Irrev-Pw2"),
    ("local-user admin password simple Hw-Simple-Pw3", "Hw-Simple-Pw3"),
    ("username netadmin privilege 15 secret 5 $1$mERr$hx5rVt7rPNoS4wqbXKX7m0",
     "$1$mERr$hx5rVt7rPNoS4wqbXKX7m0"),
    ("username bob password Ios-Plain-Pw4", "Ios-Plain-Pw4"),
    ("enable secret Ios-Enable-Pw5", "Ios-Enable-Pw5"),
    ("ntp-service authentication-keyid 1 authentication-mode hmac-sha256 cipher Ntp-Key-6",
     "Ntp-Key-6"),
    (" ospf authentication-mode md5 1 cipher Ospf-Key-7", "Ospf-Key-7"),
    ("snmp-agent community read cipher %^%#Qw9cipher%^%#", "%^%#Qw9cipher%^%#"),
    ("snmp-agent community write Snmp-Comm-8", "Snmp-Comm-8"),
    ("snmp-server community Snmp-Comm-9 RO", "Snmp-Comm-9"),
    ("tacacs-server key Tacacs-Key-10", "Tacacs-Key-10"),
    (" key 7 0822455D0A16", "0822455D0A16"),
    ("ike peer branch pre-shared-key simple Ike-Psk-11", "Ike-Psk-11"),
    ("password=Kv-Plain-12", "Kv-Plain-12"),
    ("# password=Kv-Comment-13", "Kv-Comment-13"),
    ("; secret = Kv-Ini-14", "Kv-Ini-14"),
    ("PGPASSWORD=Pg-Env-15 psql -h db-1", "Pg-Env-15"),
    ('export PGPASSWORD="Pg Quoted 16"', "Pg Quoted 16"),
    ("replication_password: Yaml-Pw-17", "Yaml-Pw-17"),
    ('{"api_token": "Json-Token-18"}', "Json-Token-18"),
    ("password Directive-Pw-19", "Directive-Pw-19"),
    ("# psk Comment-Psk-20", "Comment-Psk-20"),
    ("primary_conninfo = 'host=10.1.8.21 user=replicator password=Conninfo-21 port=5432'",
     "Conninfo-21"),
    ("postgresql://replicator:Url-Pw-22@db-1.weihai:5432/mis", "Url-Pw-22"),
    ("10.1.8.21:5432:replication:replicator:Pgpass-23", "Pgpass-23"),
    ("*:*:*:postgres:Pgpass-Star-24", "Pgpass-Star-24"),
    ("root:$6$saltsalt$Sha512HashSha512HashSha512Hash:19000:0:99999:7:::",
     "$6$saltsalt$Sha512HashSha512HashSha512Hash"),
    ("deploy:$y$j9T$abcdefgh$YescryptHashYescryptHash0:19000::::::",
     "$y$j9T$abcdefgh$YescryptHashYescryptHash0"),
    ("pg_basebackup --db-password=Opt-Pw-25 -D /srv", "Opt-Pw-25"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUPrivKey26\n"
     "-----END OPENSSH PRIVATE KEY-----", "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUPrivKey26"),
]
# Configuration that mentions passwords and keys without holding one.
KEEP = [
    "password_min_length 12",
    "PasswordAuthentication yes",
    "#PasswordAuthentication no",
    "PermitEmptyPasswords no",
    "password\trequisite\tpam_pwquality.so retry=3",
    "password\t[success=1 default=ignore]\tpam_unix.so obscure yescrypt",
    "@include common-password",
    "HostKey /etc/ssh/ssh_host_ed25519_key",
    "pubkeyauthentication yes",
    "authenticationmethods publickey,password",
    " password min-length 12",
    "password policy",
    "ssh server cipher aes256_ctr aes128_ctr",
    "-a always,exit -F arch=b64 -S adjtimex -F key=time-change",
    "-w /etc/passwd -p wa -k identity",
    "# change to the identity files is also recorded by auditd (key \"identity\").",
    "pesdc\tALL = (ALL) NOPASSWD: ALL",
    "server 10.1.8.5 iburst key 1",
    "PASS_MAX_DAYS 90",
    "description district, street and community agencies",
    "minlen = 12",
    "passwd install ok installed",
]
# Placeholders in every position a secret could take.
PLACEHOLDERS = [
    "local-user netadmin password irreversible-cipher %%PESDC_SECRET:netadmin_password%%",
    "password=%%PESDC_SECRET:replication_password%%",
    "10.1.8.21:5432:replication:replicator:%%PESDC_SECRET:replication_password%%",
    "snmp-agent community read cipher %%PESDC_SECRET:snmp_community%%",
]
SCRIPT = "<script>alert('evidence')</script>"


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A state directory of the test's own, no PESDC_SECRET_* of the caller, nothing
    remembered from another test's secrets file."""
    for key in [k for k in os.environ if k.startswith(redact.ENV_PREFIX)]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("PESDC_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setattr(redact, "_remembered", {})
    return tmp_path / "state"


# -- the redactor ----------------------------------------------------------------------


@pytest.mark.parametrize(("line", "secret"), SECRET_FORMS, ids=[s for _, s in SECRET_FORMS])
def test_each_secret_form_is_masked(line: str, secret: str) -> None:
    masked = mask_shapes(line)
    assert secret not in masked and MASK in masked
    # What the line says stays readable: everything before the secret is kept.
    assert masked.startswith(line[:line.index(secret)].rstrip("$").rstrip())


@pytest.mark.parametrize("line", KEEP)
def test_configuration_without_secrets_is_untouched(line: str) -> None:
    assert mask_shapes(line) == line


@pytest.mark.parametrize("line", PLACEHOLDERS)
def test_placeholders_are_untouched(line: str) -> None:
    assert mask_shapes(line) == line
    # known values that occur only inside the placeholders leave them alone
    assert redact.redact(line, {"x": "PESDC_SECRET:", "y": "_password%%"}) == line


def test_masking_a_whole_text_keeps_its_lines() -> None:
    text = "\n".join([line for line, _ in SECRET_FORMS] + KEEP + PLACEHOLDERS)
    masked = mask_shapes(text)
    assert masked.count("\n") == text.count("\n")
    assert mask_shapes(masked) == masked  # masking twice changes nothing
    for line in KEEP + PLACEHOLDERS:
        assert line in masked.splitlines()


def test_known_values_go_back_to_their_placeholder_longest_first() -> None:
    known = {"short": "Tok-1", "long": "Tok-1-and-more"}
    assert replace_known("a Tok-1-and-more b Tok-1", known) == \
        "a %%PESDC_SECRET:long%% b %%PESDC_SECRET:short%%"
    # a value that occurs inside a placeholder written in the same pass stays out of it
    assert replace_known("x Sup3r-Secret", {"a": "Sup3r-Secret", "b": "PESDC"}) == \
        "x %%PESDC_SECRET:a%%"
    # escaped forms, in a finished report
    assert replace_known("p&lt;w&amp;1", {"a": "p<w&1"}, escaped=True) == "%%PESDC_SECRET:a%%"
    assert replace_known('q\\"w', {"a": 'q"w'}, escaped=True) == "%%PESDC_SECRET:a%%"


def test_known_secrets_come_from_env_secrets_file_and_state_dir(
        tmp_path: Path, isolated: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pesdc.provision.secrets import backup_keypair, secret

    monkeypatch.setenv("PESDC_SECRET_DB_ADMIN_PASSWORD", "Env-Value-31")
    f = tmp_path / "secrets.yaml"
    f.write_text("netadmin_password: File-Value-32\n")
    f.chmod(0o600)  # a secrets file others can read is refused
    Secrets.load(f)
    generated = secret("weihai", "replication_password")
    priv, pub = backup_keypair("weihai")
    known = redact.known_secrets()
    assert known["db_admin_password"] == "Env-Value-31"
    assert known["netadmin_password"] == "File-Value-32"
    assert known["replication_password"] == generated
    assert known["backup_ed25519"] == priv.strip()
    assert pub not in known.values()  # a public key is meant to be shown
    text = f"a Env-Value-31 b File-Value-32 c {generated}\n{priv}"
    out = redact.redact(text)
    for value in ("Env-Value-31", "File-Value-32", generated, priv.splitlines()[1]):
        assert value not in out
    assert "%%PESDC_SECRET:replication_password%%" in out


def test_secrets_redact_is_exact_and_reversible() -> None:
    """netpush compares and pushes what Secrets.redact returns: placeholders only, no
    shape masking (a device's own password hash must survive a plan)."""
    s = Secrets({"netadmin_password": "Pesdc-Test-Secret-91"}, env={})
    line = "local-user netadmin password irreversible-cipher Pesdc-Test-Secret-91"
    red = s.redact(line + "\nsecret 9 $9$nhEmQVczB7dqsO$X.HsgL6x1il0Rx")
    assert red.splitlines()[0] == line.replace("Pesdc-Test-Secret-91",
                                               "%%PESDC_SECRET:netadmin_password%%")
    assert "$9$nhEmQVczB7dqsO$X.HsgL6x1il0Rx" in red
    assert s.fill(red.splitlines()[0]) == line


# -- every writer ----------------------------------------------------------------------

ENV_SECRET = "Env-Known-Secret-41"  # known to pesdc through PESDC_SECRET_AUDIT_PASSWORD
QUOTE = "\n".join([line for line, _ in SECRET_FORMS] + KEEP + PLACEHOLDERS +
                  [f"# copied by hand: {ENV_SECRET}", SCRIPT])
SHAPE_SECRETS = {f"form{i}": s for i, (_, s) in enumerate(SECRET_FORMS)}


def _report(catalog) -> AuditReport:  # type: ignore[no-untyped-def]
    """The lab city's static audit with one finding quoting every form."""
    report = run_audit(load(), "weihai", catalog)
    rule = report.rules["AUD-CE-25"]
    outcome = Outcome("core-1.weihai", Status.failed,
                      Msg(f"literal secret {ENV_SECRET}", f"明文口令 {ENV_SECRET}"),
                      [Evidence("running configuration", QUOTE, "lab")])
    report.rules["AUD-CE-25"] = replace(
        rule, status=Status.failed, outcomes=[outcome],
        waiver=Waiver("AUD-CE-25", f"rotating {ENV_SECRET}", "ops", "2000-01-01", True))
    return report


def _secrets(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.setenv("PESDC_SECRET_AUDIT_PASSWORD", ENV_SECRET)
    return {**SHAPE_SECRETS, "audit_password": ENV_SECRET}


def _evidence_of(fmt: str, text: str) -> str:
    """The evidence quote of the injected finding as the format holds it, unescaped."""
    if fmt == "json":
        rule = json.loads(text)["rules"]["AUD-CE-25"]
        return rule["outcomes"][0]["evidence"][0]["text"]
    if fmt == "junit":
        case = next(c for c in ET.fromstring(text.split("\n", 1)[1]).iter("testcase")
                    if c.get("name", "").startswith("AUD-CE-25"))
        return case.find("failure").text or ""  # type: ignore[union-attr]
    return html.unescape(text)


@pytest.mark.parametrize("fmt", ["json", "html", "md", "junit"])
def test_every_audit_format_is_redacted(fmt: str, catalog, tmp_path: Path,  # type: ignore
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = _secrets(monkeypatch)
    report = _report(catalog)
    if fmt == "html":
        text = rp.html_report(report, catalog, load(), "en")
    elif fmt == "json":
        text = rp.json_report(report, catalog)
    elif fmt == "junit":
        text = rp.junit_report(report, catalog, "en")
    else:
        text = rp.md_report(report, catalog, "en")
    out = tmp_path / f"audit.{fmt}"
    out.write_text(text, encoding="utf-8")
    assert_no_secrets([out], secrets)
    assert "%%PESDC_SECRET:audit_password%%" in text  # the message and the waiver
    if fmt == "md":  # Markdown lists findings, not their evidence
        return
    quote = _evidence_of(fmt, text)
    assert MASK in quote
    for line in KEEP + PLACEHOLDERS:
        assert line in quote.splitlines(), line
    # the report object itself is left as it was: redaction works on a copy
    assert ENV_SECRET in report.rules["AUD-CE-25"].outcomes[0].message


def test_html_report_escapes_evidence(catalog) -> None:  # type: ignore[no-untyped-def]
    page = rp.html_report(_report(catalog), catalog, load(), "zh")
    assert SCRIPT not in page and "<script" not in page
    assert "&lt;script&gt;alert(" in page and SCRIPT in html.unescape(page)


def test_runbook_html_is_escaped_and_markdown_is_not() -> None:
    from pesdc.stages.runbook import Section, Step, render

    doc = {"title": SCRIPT, "lang": "en", "source": "x.yaml", "target_note": "n",
           "sections": [Section("s", [Step("t", [SCRIPT], [SCRIPT])])]}
    page = render(doc, "html")
    assert "<script" not in page and "&lt;script&gt;" in page
    assert SCRIPT in render(doc, "md")


def _verify_report() -> VerifyReport:
    return VerifyReport("weihai", [
        Check("db-1.weihai", "replication", "primary_conninfo", False, "streaming",
              f"password={ENV_SECRET}", QUOTE),
        Check("mis-1.weihai", "files", "pgpass", True, "", "", QUOTE),
        Check("mis-2.weihai", "files", "skipped one", True, skipped=f"token: {ENV_SECRET}")])


@pytest.mark.parametrize("fmt", ["junit", "html"])
def test_verify_outputs_are_redacted(fmt: str, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from pesdc.verify.report import html_page, junit_xml

    secrets = _secrets(monkeypatch)
    text = junit_xml(_verify_report()) if fmt == "junit" else \
        html_page(_verify_report(), load(), "en")
    out = tmp_path / f"verify.{fmt}"
    out.write_text(text, encoding="utf-8")
    assert_no_secrets([out], secrets)
    plain = html.unescape(text)
    assert MASK in plain and all(line in plain for line in KEEP + PLACEHOLDERS)
    if fmt == "html":
        assert "<script" not in text


def test_journal_rows_are_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    from pesdc.provision.journal import journal_path, read, record
    from pesdc.results import HostResult

    secrets = _secrets(monkeypatch)
    run = RunResult("apply", "pyinfra", [HostResult(
        "db-1.weihai", "pyinfra", False, 1, [f"files.put /root/.pgpass: {QUOTE}"],
        error=f"psql: password={ENV_SECRET} rejected")])
    record(run, "weihai")
    assert_no_secrets([journal_path()], secrets)
    row = read()[0]
    assert "%%PESDC_SECRET:audit_password%%" in row["error"] and MASK in row["changes"][0]


def test_netpush_backup_masks_what_the_device_holds(isolated: Path) -> None:
    from pesdc.netpush.backups import list_backups, write_backup

    write_backup("weihai", "core-1", "sysname core-1\n" + QUOTE)
    (backup,) = list_backups("weihai")
    text = backup.path.read_text()
    assert not leaks([backup.path], SHAPE_SECRETS)
    assert "sysname core-1" in text and all(line in text for line in KEEP + PLACEHOLDERS)


# -- the example runs, scanned ---------------------------------------------------------

TEST_SECRETS_FILE = {"netadmin_password": "Pesdc-Test-Secret-91",  # the netpush sessions'
                     "snmp_community": "File-Community-52"}
TEST_SECRETS_ENV = {"PESDC_SECRET_DB_ADMIN_PASSWORD": "Env-Db-Admin-53",
                    "PESDC_SECRET_AUDIT_TOKEN": "Env-Audit-Token-54"}
FORMATS = ("json", "html", "md", "junit")


def _write_audit(report: AuditReport, catalog, topo, out: Path,  # type: ignore
                 langs: tuple[str, ...]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for lang in langs:
        (out / f"{report.dc}.{lang}.html").write_text(
            rp.html_report(report, catalog, topo, lang), encoding="utf-8")
        (out / f"{report.dc}.{lang}.md").write_text(rp.md_report(report, catalog, lang),
                                                    encoding="utf-8")
        (out / f"{report.dc}.{lang}.xml").write_text(rp.junit_report(report, catalog, lang),
                                                     encoding="utf-8")
    (out / f"{report.dc}.json").write_text(rp.json_report(report, catalog), encoding="utf-8")


def _netpush_runs(out: Path, secrets: Secrets, caplog: pytest.LogCaptureFixture) -> int:
    """Apply every recorded session (the device echoes the secret), and once with a push
    that fails and rolls back; results and logs written to ``out``."""
    from pesdc.provision.journal import record

    out.mkdir(parents=True)
    caplog.set_level(logging.DEBUG)
    echoed = 0
    for platform in ("huawei_vrp", "huawei_usg", "huawei_ce", "h3c_comware",
                     "h3c_secpath", "h3c_msr", "cisco_ios", "frr"):
        s = load_session(platform)
        t = Target("dev-1", "dev-1.testcity", "testcity", s["driver"],
                   ConnParams(s["device_type"], "192.0.2.1", retries=0), s["intended"])
        dev = FakeDevice(s)
        ok = apply_device(t, secrets, connect=dev)
        echoed += TEST_SECRETS_FILE["netadmin_password"] in dev.transcript_text()

        def boom(drv: Driver) -> None:
            def fail(lines: list[str]) -> str:
                raise OSError(f"device said: {lines}")
            drv.send_config = fail  # type: ignore[method-assign]
        bad = apply_device(t, secrets, connect=FakeDevice(s), driver_hook=boom)
        run = RunResult("apply", "netmiko", [ok, bad])
        (out / f"{platform}.json").write_text(json.dumps(
            [h.as_dict() for h in run.hosts], ensure_ascii=False, indent=1))
        record(run, "testcity")
    (out / "log.txt").write_text(caplog.text)
    return echoed


@pytest.mark.slow
def test_example_runs_write_no_secret_anywhere(
        catalog, tmp_path: Path, isolated: Path,  # type: ignore[no-untyped-def]
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from pesdc.model import validate
    from pesdc.provision.secrets import backup_keypair, secret

    for key, value in TEST_SECRETS_ENV.items():
        monkeypatch.setenv(key, value)
    file = tmp_path / "secrets.yaml"
    file.write_text("".join(f"{k}: {v}\n" for k, v in TEST_SECRETS_FILE.items()))
    file.chmod(0o600)
    secrets = Secrets.load(file)
    provisioned = {"replication_password": secret("weihai", "replication_password"),
                   "backup_private_key": backup_keypair("weihai")[0]}
    wanted = {**TEST_SECRETS_FILE, **provisioned,
              **{k.lower(): v for k, v in TEST_SECRETS_ENV.items()}}
    out = tmp_path / "out"

    # Static audit of both example trees, every format (zh and en alternately: the
    # writers are the same, the picture costs).
    for tree in (ROOT / "topologies", NONCOMPLIANT):
        topo = validate([tree]).topology
        for i, name in enumerate(sorted(topo.datacenters)):
            report = run_audit(topo, name, catalog, AuditOptions(mode="static"))
            _write_audit(report, catalog, topo, out / "audit" / tree.name,
                         ("zh", "en") if i == 0 else (("zh",) if i % 2 else ("en",)))
    # The lab city audited on recorded host evidence into which the secrets were copied
    # the ways people do: a comment, an exported variable, a pgpass line, a key file, a
    # note; and the device. sshd -T and pwquality.conf are quoted whole (from the top).
    topo = load(LABCITY)
    ctx = context(topo)
    host = recorded("mis-2-fresh")
    rep = provisioned["replication_password"]
    db_admin = TEST_SECRETS_ENV["PESDC_SECRET_DB_ADMIN_PASSWORD"]
    host.data["cmd:sshd -T"] = (f"# password={rep}\nPGPASSWORD={db_admin}\n"
                                f"# copied by hand: {rep}\n" + host.data["cmd:sshd -T"])
    host.data["file:/etc/security/pwquality.conf"] = (
        f"# 10.1.8.21:5432:replication:replicator:{rep}\n"
        f"{provisioned['backup_private_key']}\n"
        + host.data.get("file:/etc/security/pwquality.conf", ""))
    ctx.hosts = {"mis-1": recorded("mis-1-provisioned"), "mis-2": host}
    ctx.mode = "lab"
    gear = ctx.devices["core-1"]
    gear.files["device.cfg"] = (
        f"snmp-agent community read {TEST_SECRETS_FILE['snmp_community']}\n"
        "local-user netadmin password irreversible-cipher "
        f"{TEST_SECRETS_FILE['netadmin_password']}\n")
    ctx.rendered_all["devices/weihai/core-1/device.cfg"] = gear.files["device.cfg"]
    report = run_audit(topo, "weihai", catalog, AuditOptions(mode="lab"), ctx=ctx)
    _write_audit(report, catalog, topo, out / "audit" / "lab-evidence", ("zh", "en"))
    lab_json = (out / "audit" / "lab-evidence" / "weihai.json").read_text()
    # the copies were quoted: masked by shape, or back to their placeholder
    assert MASK in lab_json and "%%PESDC_SECRET:replication_password%%" in lab_json

    # Render of the example tree (the CLI, as a user runs it, with the secrets set).
    res = subprocess.run([sys.executable, "-m", "pesdc", "render", str(ROOT / "topologies"),
                          "--dc", "jinan", "-o", str(out / "render")],
                         capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr[-2000:]
    (out / "render.log").write_text(res.stdout + res.stderr)

    # netpush against the recorded sessions, with the tests' secrets file.
    assert _netpush_runs(out / "netpush", secrets, caplog) > 0  # the value did travel

    # verify's writers on checks that quote the secrets.
    from pesdc.verify.report import html_page, junit_xml

    checks = VerifyReport("weihai", [Check(
        "db-1.weihai", "replication", "conninfo", False, "streaming",
        f"password={rep}", f"postgresql://replicator:{rep}@db-1:5432/mis")])
    (out / "verify.xml").write_text(junit_xml(checks))
    (out / "verify.html").write_text(html_page(checks, topo, "zh"))

    scanned = assert_no_secrets([out, isolated / "backups", isolated / "journal"], wanted,
                                at_least=100)
    assert scanned > 100
    # and the shape forms did reach the outputs, masked
    assert MASK in (out / "verify.xml").read_text()


def test_forms_cover_escaped_and_key_lines() -> None:
    key = "-----BEGIN X PRIVATE KEY-----\nAAAAB3NzaC1yc2EAAAADAQABAAABAQ\n-----END X-----"
    spelled = forms(key)
    assert "AAAAB3NzaC1yc2EAAAADAQABAAABAQ" in spelled
    assert html.escape("a<b&c-1") in forms("a<b&c-1")
    assert 'q\\"w-1' in forms('q"w-1')

"""The audit's shortcuts (issue 19: `audit --all` of the national tree) judge exactly as
the plain reading did: the same lines, the same hits, the same quotes, and a changed
rendered file still changes the finding (nothing is judged from a stale cache)."""

from __future__ import annotations

import re

import pytest

from pesdc.audit import checks_device as cd
from pesdc.audit import checks_host as ch
from pesdc.audit.registry import AuditContext, HostEvidence, HostFacts
from pesdc.audit.result import Evidence, Outcome, Status
from pesdc.platforms.dialect import excerpt
from pesdc.redact import mask_shapes
from tests.audit.conftest import GOLDEN, LABCITY, ROOT, context, load


@pytest.fixture(scope="module")
def jinan() -> AuditContext:
    """The example city: vendor gear of every family (the lab city is Linux only)."""
    return context(load(ROOT / "topologies"), "jinan")

# The patterns the management rules quote lines by (checks_device._per_vendor callers).
PER_VENDOR = [
    [r"telnet", r"http", r"ssh", r"transport input", r"protocol inbound", r"web-manager"],
    [r"loghost", r"^logging"], [r"ntp"],
    [r"local-user", r"manager-user", r"^username", r"role"],
    [r"retry-time", r"failed-count", r"login-attempt", r"block-for", r"idle-timeout",
     r"exec-timeout"],
    [r"snmp"],
]


def _configs(ctx: AuditContext) -> list[str]:
    texts = [p.read_text() for p in sorted(GOLDEN.rglob("*.cfg"))]
    texts += [t for files in ctx.rendered_devices.values() for t in files.values()]
    assert len(texts) > 20
    return texts


EDGES = [
    "", "ssh", "\n\nssh\n", "no match here\n", "SSH server enable\r\nTelnet off\r\n",
    "a\nlogging host 1.2.3.4\n  logging trap\nxlogging\n",
    "telnet http ssh on one line\nssh again\n" * 30,  # more than the 40-line limit
    "snmp\u2028snmp\x85ntp\n", "line without a break at the end: ntp",
    # case-blind matching of non-ASCII letters: ſ (long s) and ı match s and i
    "pa\u017f\u017fword hunter2\nSSH\n", "\u017f\u017fh on\nntp\n", "Tıme ntp\n",
    "\u0130 ssh \u0130\nlogging x\n", "\u212aelvin password k\nSNMP\n", "中文 ssh 说明\n",
]


@pytest.mark.parametrize("patterns", PER_VENDOR)
def test_excerpt_finds_the_lines_the_dialect_finds(patterns: list[str],
                                                  jinan: AuditContext) -> None:
    for text in [*_configs(jinan), *EDGES]:
        assert cd._excerpt(text, tuple(patterns)) == excerpt(text, patterns)


def test_excerpt_falls_back_for_patterns_that_could_span_lines() -> None:
    text = "foo\n drop x\nbar\n"
    pats = (r"default-deny", r"^\s+drop")
    assert cd._words(pats) is None
    assert cd._excerpt(text, pats) == excerpt(text, list(pats))


def _secrets_plain(text: str) -> list[str]:
    """secrets_in as it read every line (the reference)."""
    hits: list[str] = []
    low = text.lower()
    if not any(w in low for w in ("password", "secret", "psk", "pre-shared", "community")):
        return hits
    for line in text.splitlines():
        if line.lstrip().startswith(("#", "!")):
            continue
        for m in cd.SECRET.finditer(line):
            value = m.group(1) or m.group(2) or ""
            if not value or cd.SECRET_OK.match(value) or value.isdigit():
                continue
            hits.append(line.strip().replace(value, "****"))
    return hits


def test_secret_lines_give_the_hits_of_every_line(jinan: AuditContext) -> None:
    ctx = context(load(LABCITY))
    texts = [*_configs(jinan), *ctx.rendered_all.values(), *jinan.rendered_all.values(), *EDGES, (
        "password hunter2 secret s3 psk abc\n# password commented\n"
        "local-user a password cipher %%PESDC_SECRET:x%%\n snmp-agent community read pub\n"
        "password a\rsecret b\x0bpsk c\n"
        "user x password irreversible-cipher plain\nPASSWORD Upper\npassword 1234\n"),
        "# host a password x\n  ! secret y\n\u3000# psk z\npassword kept\n",
        "# host b password x\n  ! secret y\n\u3000# psk z\npassword kept\n",
        "\xa0password nbsp\n #password\n!\n#\n", "# only a comment password x\n"]
    for text in texts:
        assert cd.secrets_in(text) == _secrets_plain(text)
    assert cd.secrets_in("x\npassword hunter2\n") == ["password ****"]


def test_a_changed_sudoers_file_changes_the_finding() -> None:
    """The sudoers reading is cached by text: a different file is read anew."""
    ctx = context(load(LABCITY))
    srv = ctx.dc.servers[0]
    facts = ctx.host_facts(srv)
    ev = ctx.hosts[srv.name]
    first = ch.admins_separated(ev, facts, {})
    assert first.status is Status.passed, first.msg
    key = next(k for k in ev.data if k.startswith("file:/etc/sudoers"))
    admin = facts.admins["audit"]
    widened = dict(ev.data)
    widened[key] = ev.data[key] + f"\n{admin} ALL=(ALL) NOPASSWD: ALL\n"
    again = ch.admins_separated(HostEvidence(ev.host, ev.source, widened), facts, {})
    assert again.status is Status.failed
    assert "unrestricted sudo" in again.msg.en
    # and the first file still gives its own verdict
    assert ch.admins_separated(ev, facts, {}).status is Status.passed


def test_a_changed_device_file_changes_the_literal_secret_finding() -> None:
    ctx = context(load(LABCITY))
    rel = next(k for k in ctx.rendered_all if k.startswith("devices/"))
    clean = {o.target: o.status for o in cd.no_literal_secrets(ctx, {})}
    target = f"{rel.split('/')[2]}.{rel.split('/')[1]}"
    assert clean[target] is Status.passed
    ctx.rendered_all[rel] += "\nlocal-user admin password simple hunter2\n"
    dirty = {o.target: o for o in cd.no_literal_secrets(ctx, {})}
    assert dirty[target].status is Status.failed
    assert "hunter2" not in dirty[target].evidence[0].text


def test_a_quote_is_masked_whenever_it_is_read() -> None:
    raw = "line\npassword hunter2\n$6$saltsalt$" + "x" * 40 + "\n"
    e = Evidence("file /etc/x", raw, "rendered", "说明")
    assert e.text == mask_shapes(raw) and "hunter2" not in e.text
    assert e.as_dict()["text"] == e.text and e.text_in("en") == e.text
    assert e == Evidence("file /etc/x", raw, "rendered", "说明")
    e.text = "secret hunter3\nok"
    assert "hunter3" not in e.text
    assert "hunter2" not in repr(Evidence("f", raw))
    o = Outcome("h", Status.passed, ch.Msg("a", "b"), [Evidence("f", raw)])
    assert "hunter2" not in o.evidence_text and "hunter2" not in str(o.as_dict())


def test_a_quote_taken_later_is_cut_once_and_masked() -> None:
    from pesdc.platforms.dialect import Proof

    raw = "line\npassword hunter2\n"
    calls: list[int] = []

    def make() -> tuple[str, str]:
        calls.append(1)
        return raw, "说明 password hunter3"

    e = Evidence.later("file /etc/x", make, "rendered")
    assert not calls
    assert e.text == mask_shapes(raw) and e.text_zh == mask_shapes("说明 password hunter3")
    assert e == Evidence("file /etc/x", raw, "rendered", "说明 password hunter3")
    assert e.as_dict()["text"] == e.text and len(calls) == 1
    p = Proof("configuration", lambda: (calls.append(2), "a\nb")[1])
    assert calls == [1]
    assert p.text == "a\nb" and p.text == "a\nb" and calls == [1, 2]
    assert p == Proof("configuration", "a\nb") and Proof("x", "y").text == "y"


def test_the_device_quotes_read_later_are_the_ones_read_at_once(
        jinan: AuditContext) -> None:
    """Every device rule's quotes, cut when read, are the lines the configuration gives
    (excerpt, the findings' own readings) for every device of the example city."""
    from pesdc.audit.registry import DEVICE_CHECKS

    ctx = jinan
    for fn in (cd.ssh_only, cd.device_syslog, cd.device_ntp, cd.device_admins,
               cd.device_lockout, cd.device_snmp):
        for o in fn(ctx, {}):
            assert all(e.text for e in o.evidence), (fn.__name__, o.target)
    for rid in ("AUD-AB-10", "AUD-AB-11", "AUD-AB-12"):
        for dev in ctx.dc.devices:
            res = DEVICE_CHECKS[rid](ctx.devices[dev.name], {})
            dialect = cd._dialect(ctx.devices[dev.name])
            if res is None or isinstance(dialect, Outcome) or not res.evidence:
                continue
            ev = ctx.devices[dev.name]
            if rid == "AUD-AB-10":
                finding = dialect.default_deny(ev.text)
            elif rid == "AUD-AB-11":
                finding = dialect.stateful(ev.text)
            else:
                finding = dialect.mgmt_access(ev.text, ev.kind, ev.mgmt_nets)
            assert finding is not None and finding.proof is not None
            assert res.evidence[0].text == mask_shapes(finding.proof.text)


@pytest.mark.parametrize("city", ["labcity", "jinan"])
def test_the_shared_policy_reading_is_not_edited_by_the_audit(city: str,
                                                              jinan: AuditContext) -> None:
    from pesdc.render.readback import READERS, peek_back, read_back

    ctx = jinan if city == "jinan" else context(load(LABCITY))
    seen = 0
    for dev in ctx.dc.devices:
        kind = cd.kind_of(dev).name
        if kind not in READERS:
            continue
        files = ctx.rendered_devices[dev.name]
        before = read_back(kind, files)
        cd.permits_are_the_policy(ctx, {})
        assert peek_back(kind, files) == before
        copy = read_back(kind, files)
        assert copy is not None
        copy.permits.clear()  # a copy may be edited; the shared reading is untouched
        assert peek_back(kind, files) == before
        seen += 1
    assert seen


def test_duty_verdicts_are_shared_but_not_mutable() -> None:
    ctx = context(load(LABCITY))
    srv = ctx.dc.servers[0]
    facts: HostFacts = ctx.host_facts(srv)
    duty = facts.duties["system"]
    a = ch._duty_problems("u", "系统管理员", duty, "")
    a.append(ch.Msg("x", "y"))  # the caller's list; the cached verdict stays
    assert len(ch._duty_problems("u", "系统管理员", duty, "")) == 1


def test_the_management_rules_take_the_fast_path(monkeypatch: pytest.MonkeyPatch,
                                                jinan: AuditContext) -> None:
    """Every pattern list the management rules quote by is one this file tests, and
    none can match across a line (so the fast path gives excerpt's lines)."""
    seen: list[tuple[str, ...]] = []
    real = cd._excerpt

    def spy(text: str, patterns: tuple[str, ...], limit: int = 40) -> str:
        seen.append(patterns)
        return real(text, patterns, limit)

    monkeypatch.setattr(cd, "_excerpt", spy)
    ctx = jinan
    for fn in (cd.ssh_only, cd.device_syslog, cd.device_ntp, cd.device_admins,
               cd.device_lockout, cd.device_snmp):
        before = len(seen)
        outcomes = fn(ctx, {})
        assert len(seen) == before  # the lines are cut when the quote is read
        for o in outcomes:
            for e in o.evidence:
                assert e.text
    assert seen and {tuple(p) for p in PER_VENDOR} == set(seen)
    for pats in set(seen):
        assert cd._words(pats) is not None, pats
    assert cd._words(("^logging",)) == ("logging",)


def _rows(out: str) -> list[dict[str, object]]:
    import json

    rows: list[dict[str, object]] = json.loads(out)["centers"]
    for r in rows:
        r.pop("seconds")
    return rows


def test_workers_change_nothing_but_the_processes() -> None:
    from tests.audit.conftest import pesdc

    tree = str(ROOT / "topologies")
    one = pesdc("audit", tree, "--all", "--workers", "1", "--format", "json")
    two = pesdc("audit", tree, "--all", "--workers", "2", "--format", "json")
    assert one.returncode == 0 and two.returncode == 0, (one.stderr, two.stderr)
    assert len(_rows(one.stdout)) >= 4  # enough centers for the forked path
    assert _rows(one.stdout) == _rows(two.stdout)


@pytest.mark.parametrize("lang, words", [("en", "Error: --workers is for --all"),
                                         ("zh", "错误：--workers 仅用于 --all")])
def test_workers_without_all_is_a_usage_error(lang: str, words: str) -> None:
    from tests.audit.conftest import pesdc

    res = pesdc("--lang", lang, "audit", str(ROOT / "topologies"), "--dc", "jinan",
                "--workers", "2")
    assert res.returncode == 2
    assert res.stderr.splitlines()[-1].startswith(words), res.stderr


def _kv_plain(text: str, sep: str) -> dict[str, list[str]]:
    """kv as it read every line (the reference)."""
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = re.split(sep, line, maxsplit=1)
        out.setdefault(parts[0].lower(), []).append(parts[1].strip() if len(parts) > 1
                                                     else "")
    return out


def test_kv_reads_what_every_line_says(jinan: AuditContext) -> None:
    texts = [t for ev in jinan.hosts.values() for t in ev.data.values()]
    texts += ["# c\rKey = v\n", "  # c\x0bminlen=3\n#x\r\nminlen = 14\n", "\t# only\n",
              "a b # c\n#\n  #  \nA = 1\n", "x=1\u2028# y\u2028# z\x85k v", "#k=1", ""]
    for text in texts:
        for sep in (r"\s*=\s*|\s+", r"\s+"):
            assert ch.kv(text, sep) == _kv_plain(text, sep), (text[:80], sep)


def test_servers_that_differ_in_comments_share_a_reading() -> None:
    a = "# host a\nminlen = 14\n"
    b = "# host b\nminlen = 14\n"
    assert ch.kv(a) == ch.kv(b) == {"minlen": ["14"]}
    assert ch.kv("# host a\nminlen = 8\n") == {"minlen": ["8"]}  # a setting is read anew


def _sudo_plain(text: str, user: str) -> str:
    """sudo_commands' reading of a sudoers text as it was (the reference)."""
    aliases = ch._sudo_aliases(text)
    joined = re.sub(r"\\\n\s*", " ", text)
    out = []
    for ln in [ln for ln in joined.splitlines() if re.match(rf"^{re.escape(user)}\s", ln)]:
        for name, cmds in aliases.items():
            denied = ", ".join(f"!{c.strip()}" for c in cmds.split(","))
            ln = re.sub(rf"!\s*\b{name}\b", ch._literally(denied), ln)
            ln = re.sub(rf"\b{name}\b", ch._literally(cmds), ln)
        out.append(ln)
    return "\n".join(out)


def test_sudoers_read_as_every_line_says(jinan: AuditContext) -> None:
    texts = [ev.files("/etc/sudoers") or "" for ev in jinan.hosts.values()]
    texts += ["Cmnd_Alias A = /bin/a, \\\n   /bin/b\nCmnd_Alias AB = /bin/c\n"
              "u ALL = A, !AB\nuu ALL = AB\nu\tALL=(ALL) ALL\nu\n# u ALL = A \\\nu ALL = AB\n"]
    users = ["u", "uu", "sysadmin", "auditadmin", "secadmin", "root"]
    for text in texts:
        for user in users:
            assert ch._sudoers_commands(text, user) == _sudo_plain(text, user), user


def test_the_tree_derived_once_gives_every_center_its_own_verdicts(catalog) -> None:
    """audit --all shares the tree's off-site copies between centers: each center's
    report is the one of an audit of its own."""
    from pesdc.audit.engine import audit_all, run_audit, summary

    topo = load(ROOT / "topologies")
    shared = {r["dc"]: r for r in audit_all(topo, catalog, workers=1)}
    assert len(shared) >= 4
    for name, row in shared.items():
        alone = summary(run_audit(topo, name, catalog))
        assert {**alone, "seconds": 0} == {**row, "seconds": 0}, name
    tree: dict[str, object] = {}
    run_audit(topo, "jinan", catalog, tree=tree)
    assert "offsite_backups" in tree  # derived once, then shared


def test_other_breaks_are_the_pattern_s() -> None:
    """_other_breaks(text) is _OTHER_BREAKS.search(text), whatever the text holds."""
    chars = [chr(c) for c in range(0x3000)] + ["\u2028", "\u2029", "\U0001f600"]
    for c in chars:
        for text in (c, f"ascii {c} text", f"中文{c}", f"x\n{c}\ny"):
            assert cd._other_breaks(text) == (cd._OTHER_BREAKS.search(text) is not None), \
                repr(text)
    assert not cd._other_breaks("plain\nlines\n") and cd._other_breaks("a\r\nb")


def test_audit_keys_are_found_where_the_pattern_finds_them() -> None:
    """_has_key (tried where a key rule starts) is the pattern's search anywhere."""
    import random

    rng = random.Random(7)
    keys = ["identity", "time-change", "sudo", "su", "time", "x.y", "a-b", "中文", "k_1"]
    pieces = ["-k ", "key=", "-k", "key =", " ", "\n", "-w /etc/x -p wa ", "_", "-",
              ".", "中", "é", "\u00a0", *keys]
    for _ in range(4000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        for key in keys:
            want = ch._key_rule(key).search(text) is not None
            assert ch._has_key(text, key) == want, (text, key)


def test_settings_are_kv_s_reading_read_only() -> None:
    text = "# host a\nMinLen = 14\nminlen 8\n\nucredit=-1 # trailing\n"
    view = ch.settings(text)
    assert {k: list(v) for k, v in view.items()} == ch.kv(text)
    with pytest.raises(TypeError):
        view["minlen"] = ("1",)  # type: ignore[index]


def test_comment_lines_are_dropped_as_the_pattern_drops_them() -> None:
    import random

    rng = random.Random(11)
    pieces = ["#", " ", "\t", "\n", "\r", "\x85", "\u2028", "a", "key = 1", "# c", "\n#",
              " #x", "\v", "中"]
    for _ in range(5000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 14)))
        assert ch.uncommented(text) == ch._COMMENT_LINE.sub("", text), repr(text)


def test_secret_hits_are_the_same_with_comment_lines_shared() -> None:
    """secrets_in reads a text without its comment lines (cached by that): the hits of
    every line, as the plain reading finds them, on random texts."""
    import random

    rng = random.Random(5)
    pieces = ["# host a\n", "#password x\n", " # psk y\n", "password hunter2\n", "\r",
              "secret s3\n", "! community c\n", "\x85", "\u017f", "snmp-agent community "
              "read pub\n", "key = 1\n", "\t# secret z\n", "\n", "password%%PESDC_SECRET:a%%\n"]
    for _ in range(3000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 8)))
        assert cd.secrets_in(text) == _secrets_plain(text), repr(text)


def test_found_tries_line_starts_as_findall_tries_every_position() -> None:
    import random

    from pesdc.platforms import dialect as dl

    patterns = [r"^info-center loghost (\d+\.\d+\.\d+\.\d+)", r"^ntp-service unicast-server (\S+)",
                r"^ntp server (\S+) (\S+)", r"^logging host (\S+)", r"^ab", r"^a b(c)?",
                r"^ab+", r"^ab?c", r"^a|b", r"^ab(\s+)x", r"^a\n", r"^ab.*", r"(?i)^ab",
                r"^ab{2}", r"^ab(x)(y)?"]
    pieces = ["info-center loghost 10.1.2.3", "info-center loghost x", "ntp-service "
              "unicast-server 1.2.3.4", "ntp server a b", "logging host h", "ab", "abb",
              "a b", "a bc", "abx", "ab  x", "abxy", "AB", " ab", "\n", "\n\n", "\r", "x",
              "ac", "abbc", "a\nb"]
    rng = random.Random(3)
    for _ in range(1500):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 10)))
        for p in patterns:
            assert dl.found(p, text) == re.findall(p, text, re.MULTILINE), (p, text)
    assert dl._line_lead(r"^info-center loghost (\d+)") == "info-center loghost "
    assert dl._line_lead(r"^ab+") is None and dl._line_lead(r"^a|b") is None


def test_has_tries_the_lead_as_the_pattern_tries_every_position(jinan: AuditContext) -> None:
    import random

    from pesdc.platforms import dialect as dl

    patterns = [r"^\s*protocol inbound (all|telnet)", r"^\s*snmp-(agent|server) community",
                r"^\s*(local-user|manager-user|username)\s+admin\b", r"^\s*ab", r"^\s*ab+",
                r"^\s*a b(c|d)?", r"^\s*ab|x", r"^\s*ab\n", r"^\s*ab[(|]", r"^\s*ab(?=c)",
                r"^\s*AB c", r"^\s*ab\b"]
    pieces = ["protocol inbound all", "protocol inbound ssh", " PROTOCOL Inbound Telnet",
              "snmp-agent community read x", "snmp-server community", "snmp-agent v3",
              "local-user admin", " username admin", "ab", "AB c", "abc", "a bd", "x",
              "\n", "\t", "\r", "\x0c", "\x1c", " ", "\n \n", "abb", "ab(", "ab|", "中", "K"]
    rng = random.Random(13)
    texts = [d.text for d in jinan.devices.values()]
    for _ in range(1500):
        texts.append("".join(rng.choice(pieces) for _ in range(rng.randint(0, 10))))
    for text in texts:
        for p in patterns:
            want = re.search(p, text, re.MULTILINE | re.IGNORECASE) is not None
            assert dl.has(text, p) == want, (p, text)
    assert dl._indented_lead(r"^\s*ab|x") is None and dl._indented_lead(r"^\s*ab+") is None
    assert dl._indented_lead(r"^\s*snmp-(agent|server) community") is not None

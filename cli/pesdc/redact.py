"""One redactor for every text pesdc writes that came from a host, a device or a secret.

Two passes, in this order:

1. **Known values.** Every secret pesdc can know of in this process — ``PESDC_SECRET_*``
   variables, secrets files loaded through :meth:`pesdc.netpush.secrets.Secrets.load`,
   and the per-center secrets provisioning keeps in the state directory — goes back to
   its ``%%PESDC_SECRET:name%%`` placeholder. This pass is exact and reversible (a
   driver can fill the placeholder again), so netpush uses it on the live path too.
2. **Shapes.** Text that looks like a secret although pesdc never saw the value (a
   password someone typed on a device, a hash in a running configuration, a key block in
   a file) is masked as ``****``. Lossy, so only for what people read: reports, evidence
   quotes, backups and the journal — never for what is compared or pushed back.

``%%PESDC_SECRET:name%%`` placeholders pass through both untouched.
"""

from __future__ import annotations

import functools
import html
import json
import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

PLACEHOLDER = re.compile(r"%%PESDC_SECRET:([A-Za-z0-9_.-]+)%%")
ENV_PREFIX = "PESDC_SECRET_"
MASK = "****"
# Shorter values would replace ordinary words ("on", "12") all over a report.
MIN_KNOWN_LENGTH = 3
# A line of a multi-line secret (a key file) long enough to be its own fingerprint.
MIN_FRAGMENT_LENGTH = 16
# Provisioning secret files are a password or a key: anything bigger is not one.
MAX_SECRET_FILE = 64 * 1024

_remembered: dict[str, str] = {}


def placeholder(name: str) -> str:
    return f"%%PESDC_SECRET:{name}%%"


def remember(values: Mapping[str, str]) -> None:
    """Secrets loaded in this process (a ``--secrets`` file): redacted from then on."""
    _remembered.update({str(k): str(v) for k, v in values.items() if v})


# -- pass 1: known values --------------------------------------------------------------


def env_secrets(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """``PESDC_SECRET_<NAME>`` variables by lower-cased name."""
    env = os.environ if env is None else env
    return {k[len(ENV_PREFIX):].lower(): v for k, v in env.items()
            if k.startswith(ENV_PREFIX) and v}


def state_secrets(root: Path | None = None) -> dict[str, str]:
    """The secrets provisioning generated under ``$PESDC_STATE_DIR/secrets/<center>/``
    (public keys excepted: they are meant to be shown)."""
    if root is None:
        from pesdc.lab.paths import state_dir

        root = state_dir() / "secrets"
    out: dict[str, str] = {}
    try:
        files = sorted(p for p in root.glob("*/*") if not p.name.endswith(".pub"))
    except OSError:
        return out
    for f in files:
        try:
            if f.is_symlink() or not f.is_file() or f.stat().st_size > MAX_SECRET_FILE:
                continue
            value = f.read_text(encoding="utf-8", errors="replace").strip()
        except OSError:  # not ours to read (another user's state): nothing to redact
            continue
        if value:
            out.setdefault(f.name, value)
    return out


def known_secrets(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every secret value this process can know of, by name (the environment wins)."""
    out = state_secrets()
    out.update(_remembered)
    out.update(env_secrets(env))
    return out


def _pieces(name: str, value: str) -> Iterable[tuple[str, str]]:
    """The value itself and, for a multi-line one, each long line (a quote may be cut)."""
    yield name, value
    if "\n" in value:
        for line in value.splitlines():
            line = line.strip()
            if len(line) >= MIN_FRAGMENT_LENGTH and "-----" not in line:
                yield name, line


def _variants(value: str) -> set[str]:
    """The value as it reads after HTML/XML or JSON escaping of a report."""
    return {value, html.escape(value, quote=False), html.escape(value),
            json.dumps(value, ensure_ascii=False)[1:-1], json.dumps(value)[1:-1]}


@functools.lru_cache(maxsize=32)
def _known_pattern(known: tuple[tuple[str, str], ...], escaped: bool
                   ) -> tuple[re.Pattern[str] | None, dict[str, str]]:
    """One alternation of the values, longest first, and each value's name."""
    pairs = [(n, p) for name, value in known for n, p in _pieces(name, value)]
    if escaped:
        pairs = [(n, v) for n, p in pairs for v in _variants(p)]
    by_value: dict[str, str] = {}
    for name, value in sorted(pairs):  # one name per value, the same on every run
        if len(value) >= MIN_KNOWN_LENGTH:
            by_value.setdefault(value, name)
    if not by_value:
        return None, by_value
    return re.compile("|".join(re.escape(v) for v in sorted(by_value, key=len,
                                                             reverse=True))), by_value


def replace_known(text: str, known: Mapping[str, str], escaped: bool = False) -> str:
    """Each known value back to its placeholder, longest first; placeholders kept.

    ``escaped``: also the value's HTML and JSON escaped forms (a finished report)."""
    if not text or not known:
        return text
    pattern, by_value = _known_pattern(tuple(sorted(known.items())), escaped)
    if pattern is None:
        return text
    # One pass: a placeholder just written is never rewritten by a shorter value; and
    # the text is split around the placeholders already there so that none is touched.
    parts = PLACEHOLDER.split(text)
    for i in range(0, len(parts), 2):  # even parts are text, odd ones placeholder names
        parts[i] = pattern.sub(lambda m: placeholder(by_value[m.group(0)]), parts[i])
    return "".join(p if i % 2 == 0 else placeholder(p) for i, p in enumerate(parts))


# -- pass 2: shapes ------------------------------------------------------------------

# Words that follow "password" or "key" in configuration without being a secret:
# PAM control flags, Huawei policy keywords, booleans, key ids and references.
_NOT_A_SECRET = re.compile(
    r"(?:yes|no|true|false|on|off|none|null|required|requisite|sufficient|optional|include|"
    r"substack|enable|enabled|disable|disabled|policy|min-length|complexity|complexity-check|"
    r"expire|aging|history|alert|control|tries|authentication|cipher|irreversible-cipher|"
    r"simple|plain|hash|read|write|[0-9]+|\*|\[.*|\$\{?[A-Za-z_]\w*\}?)",
    re.IGNORECASE)
# Words after a bare "key" in prose and configuration that name something, not a secret.
_KEY_NOUNS = {"exchange", "chain", "pair", "file", "id", "type", "length", "size",
              "string", "is", "for", "of", "the", "and", "to", "in", "on", "with",
              "was", "not", "name", "fingerprint", "format", "algorithm"}

_SECRET_WORD = r"(?:password|passwd|passphrase|secret|token|psk|key)"
# A secret's name: the word after a separator (db_password, api-key, auth_pass), the
# word glued to "password" (PGPASSWORD), or the word alone; "HostKey" and
# "password_min_length" are not names of secrets.
_PREFIXED = rf"(?:[A-Za-z0-9]+[_.-])+(?:{_SECRET_WORD}|pwd|pass)|[A-Za-z0-9]*pass(?:word|wd)"
_NAME = rf"(?:{_PREFIXED}|{_SECRET_WORD})"
# In name=value a bare "key" is auditd's rule tag (-F key=time-change), not a secret.
_ASSIGNED_NAME = rf"(?:{_PREFIXED}|passphrase|secret|token|psk)"
_VALUE = r"""(?P<q>["'])?(?P<v>(?(q)[^"'\n]*|[^\s&;,'"]+))(?(q)(?P=q))"""

# A value token: up to whitespace, leaving a closing quote of the line it sits in.
_TOKEN = r"""(?P<v>\S+?)(?=["']?(?:\s|$))"""

# Vendor forms, anywhere in a line.
_VENDOR = [
    # password|secret|key|community ... with a type: cipher X, 7 X, simple X
    re.compile(r"(?<![-\w])(?:password|secret|key|key-string|pre-shared-key|preshared-key"
               r"|psk|community)[ \t]+(?:simple|plain|[0-9]{1,2})[ \t]+" + _TOKEN,
               re.IGNORECASE),
    # ... cipher X, irreversible-cipher X (authentication-mode md5 cipher X as well)
    # (not "ssh server cipher aes256_ctr": an algorithm list)
    re.compile(r"(?<![-\w])(?:irreversible-cipher|cipher)[ \t]+"
               r"(?!(?:aes|3des|des|sm4|chacha|arcfour|blowfish|camellia)[\w@.-]*(?:\s|$))"
               + _TOKEN, re.IGNORECASE),
    # local-user NAME password X, username NAME [privilege 15] secret X, enable secret X
    re.compile(r"(?:(?<![-\w])(?:local-user|username)[ \t]+\S+(?:[ \t]+\S+)*?|"
               r"(?<![-\w])enable)[ \t]+(?:password|secret)[ \t]+" + _TOKEN, re.IGNORECASE),
    # snmp-agent community read X, snmp-server community X RO, rocommunity X (net-snmp)
    re.compile(r"(?:(?<![-\w])snmp-(?:agent|server)[ \t]+community[ \t]+(?:(?:read|write)"
               r"[ \t]+)?|(?<![-\w])r[ow]community6?[ \t]+)" + _TOKEN, re.IGNORECASE),
    # ntp authentication-key 1 md5 X
    re.compile(r"(?<![-\w])authentication-key[ \t]+[0-9]+[ \t]+\S+[ \t]+" + _TOKEN,
               re.IGNORECASE),
    # pre-shared-key X, key-string X; a bare "key X" only where a command takes one:
    # first on its line (" key 7 X" in a tacacs block), after tacacs-server, radius-server
    # or isakmp. Elsewhere "key" is prose ("at key network nodes").
    re.compile(r"(?:(?<![-\w])(?:key-string|pre-shared-key|preshared-key)|"
               r"(?:^[ \t]*|(?<![-\w])(?:\S+-server|isakmp)[ \t]+)key)[ \t]+" + _TOKEN,
               re.IGNORECASE | re.MULTILINE),
]
_VENDOR_KEY = _VENDOR[-1]

# Linux and application forms.
_ASSIGNED = re.compile(  # name=value, name: value, "name": "value", anywhere (comments too)
    # not a path (/etc/pam.d/common-password) nor a sudoers tag (NOPASSWD: ALL)
    rf"""(?<![\w./-])(?!(?:no)?passwd:)["']?(?P<name>{_ASSIGNED_NAME})["']?"""
    rf"""[ \t]*(?::|=)[ \t]*{_VALUE}""", re.IGNORECASE)
_OPTION = re.compile(  # --password=X, --db-password X
    r"(?<![\w-])--[\w-]*(?:password|passwd|passphrase|secret|token|psk|api-key)"
    r"(?:=|[ \t]+)(?P<v>[^\s&;,]+)", re.IGNORECASE)
_DIRECTIVE = re.compile(  # "password X" as a whole line (also commented out)
    rf"^[ \t]*(?:(?:#|;|!|//)[ \t]*)?(?P<name>{_NAME})[ \t]+{_TOKEN}[\"']?[ \t]*$",
    re.IGNORECASE | re.MULTILINE)
_URL = re.compile(r"(?<![\w+.-])[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*:(?P<v>[^@\s/]+)@")
_PGPASS = re.compile(  # host:port:database:user:password
    r"^[ \t]*(?:\*|[A-Za-z0-9_.\-\[\]]+):(?:\*|[0-9]{1,5}):[^:\s]+:[^:\s]+:"
    + _TOKEN + r"[\"']?[ \t]*$", re.MULTILINE)
_HASH = re.compile(  # crypt(3) hashes ($6$, $y$, $2b$ ...), Cisco $8$/$9$
    r"(?<![\w$])\$(?:[0-9][a-z]?|y|gy|7|2[abxy]|sha1|md5|argon2(?:id|i|d)?)"
    r"\$[./A-Za-z0-9,=]{2,}[$./A-Za-z0-9,=+-]{6,}"
    # Huawei's irreversible-cipher hash: any printable characters from $1a$ to a last $
    r"|(?<![\w$])\$1[a-d]\$\S*?\$(?=\s|$)")
# Huawei/H3C reversible ciphertext between its markers: %^%#...%^%#, @%@%...@%@%, %$%$...
_HUAWEI_CIPHERTEXT = re.compile(r"(%\^%#|@%@%|%@%@|%\$%\$)\S*?\1")
_PRIVATE_KEY = re.compile(
    r"(?P<begin>-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----)(?P<body>.*?)"
    r"(?P<end>-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.DOTALL)

# Cheap first look: a text without any of these cannot hold a shape above.
_HINTS = ("pass", "secret", "token", "key", "psk", "cipher", "community", "pwd", "://",
          "$", "%", ":")


_SENTINEL = re.compile("\x00([0-9]+)\x00")  # a placeholder set aside while masking


def _keep(value: str) -> bool:
    """A value that stays: empty, a placeholder, already masked, or a known non-secret."""
    return (not value or value == MASK or _SENTINEL.fullmatch(value) is not None
            or _NOT_A_SECRET.fullmatch(value) is not None)


def _mask_group(pattern: re.Pattern[str], text: str, check: bool = True) -> str:
    """Replace group ``v`` of every match by the mask (unless it is a value to keep)."""
    def sub(m: re.Match[str]) -> str:
        value = m.group("v")
        if check and _keep(value):
            return m.group(0)
        start, end = m.start("v") - m.start(), m.end("v") - m.start()
        whole = m.group(0)
        return whole[:start] + MASK + whole[end:]
    return pattern.sub(sub, text)


_COMMENT = re.compile(r"^[ \t]*(?:#|!|;|//)")


def _mask_key(text: str) -> str:
    """A bare ``key X`` on a configuration line: masked unless X is a noun ("key
    exchange") or a path. Comment lines are prose ("recorded by auditd (key ...)")."""
    def sub(m: re.Match[str]) -> str:
        value = m.group("v")
        if _keep(value) or value.lower() in _KEY_NOUNS or value.startswith(("/", "~")):
            return m.group(0)
        return m.group(0)[: m.start("v") - m.start()] + MASK
    if "key" not in text.lower():
        return text
    return "\n".join(line if _COMMENT.match(line) else _VENDOR_KEY.sub(sub, line)
                      for line in text.split("\n"))  # split("\n"): keep "\r" as it was


def mask_shapes(text: str) -> str:
    """Mask what looks like a password, key or hash; placeholders stay."""
    if not text:
        return text
    return _mask_shapes_cached(text)


# An audit quotes the same file for several rules of one host (sshd_config for five):
# the masking is a pure function of the text, so each text is masked once.
@functools.lru_cache(maxsize=4096)
def _mask_shapes_cached(text: str) -> str:
    if "BEGIN" in text or "\n" not in text:
        return _mask_text(text)
    # Line by line, and only the lines that could hold a shape: a quoted configuration
    # file is mostly lines without any hint, and the patterns are line-local (a private
    # key block, the one shape that spans lines, takes the whole-text path above).
    return "\n".join(_mask_text(line) if _may_hold_secret(line) else line
                      for line in text.split("\n"))


def _may_hold_secret(line: str) -> bool:
    low = line.lower()
    return any(h in low for h in _LINE_HINTS) or line.count(":") >= 4


# _HINTS without ":", which nearly every line has; pgpass lines have four colons.
_LINE_HINTS = tuple(h for h in _HINTS if h != ":")


def _mask_text(text: str) -> str:
    low = text.lower()
    if not any(h in low for h in _HINTS) and "BEGIN" not in text:
        return text
    # Placeholders step aside (their "PESDC_SECRET:name" reads like "secret: value").
    kept: list[str] = []

    def aside(m: re.Match[str]) -> str:
        kept.append(m.group(0))
        return f"\x00{len(kept) - 1}\x00"
    text = PLACEHOLDER.sub(aside, text.replace("\x00", ""))
    text = _PRIVATE_KEY.sub(lambda m: f"{m['begin']}\n{MASK}\n{m['end']}".rstrip("\n"), text)
    text = _HASH.sub(MASK, text)
    text = _HUAWEI_CIPHERTEXT.sub(MASK, text)
    text = _mask_group(_URL, text, check=False)
    for pattern in _VENDOR[:-1]:
        text = _mask_group(pattern, text)
    text = _mask_key(text)
    text = _mask_group(_OPTION, text)
    text = _mask_group(_ASSIGNED, text)
    text = _mask_group(_DIRECTIVE, text)
    text = _mask_group(_PGPASS, text)
    return _SENTINEL.sub(lambda m: kept[int(m.group(1))], text)


# -- both ------------------------------------------------------------------------------


def redact(text: str, known: Mapping[str, str] | None = None) -> str:
    """Known secret values to placeholders, then secret-looking text masked."""
    if not text:
        return text
    return mask_shapes(replace_known(text, known_secrets() if known is None else known))


class Redactor:
    """The known secrets read once, for the many texts of one report or run."""

    def __init__(self, known: Mapping[str, str] | None = None):
        self.known = dict(known_secrets() if known is None else known)

    def __call__(self, text: str) -> str:
        return redact(text, self.known)

    def known_only(self, text: str) -> str:
        """Pass 1 alone: for pesdc's own words, which shapes would mangle ("key pair")."""
        return replace_known(text, self.known)

    def finished(self, text: str) -> str:
        """The last pass over a written report: known values, raw or escaped."""
        return replace_known(text, self.known, escaped=True)

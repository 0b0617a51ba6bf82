"""Host checks that must pass whichever engine (pyinfra or Ansible) applied the host."""

from __future__ import annotations

import subprocess

from pesdc.lab.runtime import Lab


def ssh(lab: str, host: str, *cmd: str, user: str = "pesdc") -> subprocess.CompletedProcess[str]:
    """A command on a lab host, from the lab's controller namespace, host key checked."""
    lb = Lab(lab)
    argv = lb.controller_argv(["ssh", "-F", str(lb.ssh_dir / "ssh_config"), "-l", user,
                               host, *cmd])
    return subprocess.run(argv, capture_output=True, text=True, timeout=60)


def host_checks(lab: str, host: str, expected: dict[str, str], admins: list[str],
                min_length: int, log_servers: list[str], roles: list[str]) -> list[str]:
    """Problems found on HOST (empty: it is in the state the topology asks for).

    ``expected`` maps absolute paths to the bytes pesdc renders for this host."""
    problems = []
    for user in [*admins, "pesdc"]:
        if ssh(lab, host, "getent", "passwd", user).returncode != 0:
            problems.append(f"account {user} missing")
    res = ssh(lab, host, "sudo", "cat", "/etc/ssh/sshd_config")
    if res.returncode != 0 or res.stdout != expected["/etc/ssh/sshd_config"]:
        problems.append("sshd_config differs from pesdc's rendering")
    pwq = ssh(lab, host, "cat", "/etc/security/pwquality.conf").stdout
    if f"minlen = {min_length}" not in pwq.splitlines():
        problems.append("pwquality minlen is not the topology's")
    if "logserver" not in roles:
        fwd = ssh(lab, host, "cat", "/etc/rsyslog.d/50-pesdc-forward.conf").stdout
        for addr in log_servers:
            if f'target="{addr}"' not in fwd:
                problems.append(f"rsyslog does not forward to {addr}")
    if ssh(lab, host, "true", user="root").returncode == 0:
        problems.append("root can still log in over SSH")
    return problems

"""The control catalog: what graded protection level 3 asks of a server, as data.

Every pyinfra operation and every Ansible task names one of these ids (as
ansible-lockdown tags its tasks), so a change, a skipped control or an audit finding
points back to a GB/T 22239-2019 clause. ``lab_safe=False`` marks a control that would
touch kernel-global state on a namespace lab host: there it is recorded as not
applicable instead of applied.
"""

from __future__ import annotations

from pesdc.provision.spec import Control

IA = "8.1.4.1"  # identification and authentication
AC = "8.1.4.2"  # access control
AU = "8.1.4.3"  # security audit
IP = "8.1.4.4"  # intrusion prevention
MW = "8.1.4.5"  # malicious code prevention
DI = "8.1.4.7"  # data integrity
BK = "8.1.4.9"  # data backup and recovery

CONTROLS: tuple[Control, ...] = (
    # -- baseline: every server ------------------------------------------------------
    Control("PESDC-BL-01", IA, "Unique named accounts, deploy account key-only",
            "用户身份唯一标识，部署账户仅用密钥", "baseline"),
    Control("PESDC-BL-02", AC, "System, audit and security administrators with role-limited sudo",
            "系统、审计、安全三类管理员分权，sudo 按角色限制", "baseline"),
    Control("PESDC-BL-03", IA, "Password complexity (pam_pwquality)",
            "口令复杂度（pam_pwquality）", "baseline"),
    Control("PESDC-BL-04", IA, "Password rotation and account defaults (login.defs)",
            "口令定期更换与账户默认值（login.defs）", "baseline"),
    Control("PESDC-BL-05", IA, "Lockout after failed logins (pam_faillock)",
            "登录失败处理：多次失败锁定（pam_faillock）", "baseline"),
    Control("PESDC-BL-06", IA, "Idle session timeout (TMOUT, sshd ClientAlive)",
            "登录连接超时自动退出（TMOUT、sshd ClientAlive）", "baseline"),
    Control("PESDC-BL-07", IA, "sshd hardened: no root login, management zone only",
            "SSH 加固：禁止 root 登录，仅允许管理区远程管理", "baseline"),
    Control("PESDC-BL-08", AU, "auditd rules installed", "安装审计规则（auditd）",
            "baseline"),
    Control("PESDC-BL-09", AU, "auditd rules loaded into the kernel and auditd running",
            "审计规则加载至内核并运行 auditd", "baseline", lab_safe=False),
    Control("PESDC-BL-10", AU, "Logs forwarded to the center's log server (rsyslog)",
            "日志转发至集中日志服务器（rsyslog）", "baseline"),
    Control("PESDC-BL-11", AU, "Time synchronised with the management zone's time source",
            "与管理区时间源同步（chrony）", "baseline"),
    Control("PESDC-BL-12", IA, "Default and system accounts locked",
            "默认账户与系统账户锁定", "baseline"),
    Control("PESDC-BL-13", IP, "Unneeded services disabled", "关闭不需要的系统服务",
            "baseline"),
    Control("PESDC-BL-14", AC, "Restrictive umask (027)", "默认权限掩码 027", "baseline"),
    Control("PESDC-BL-15", IP, "Network sysctls (per network namespace)",
            "网络内核参数加固（按网络命名空间）", "baseline"),
    Control("PESDC-BL-16", IP, "Kernel and filesystem sysctls (kernel-global)",
            "内核与文件系统参数加固（全局）", "baseline", lab_safe=False),
    Control("PESDC-BL-17", AU, "Login banner", "登录警示信息", "baseline"),
    Control("PESDC-BL-18", IP, "Baseline packages installed", "安装基线软件包", "baseline"),
    # -- roles -----------------------------------------------------------------------
    Control("PESDC-LOG-01", AU, "Central log collection from the center's segments",
            "集中收集各区域日志", "logserver"),
    Control("PESDC-LOG-02", AU, "Received logs kept at least log_retention_days (180)",
            "日志留存不少于 180 天", "logserver"),
    Control("PESDC-DB-01", AC, "PostgreSQL primary, pg_hba limited to its application servers",
            "数据库主库，访问限于使用它的应用服务器", "database"),
    Control("PESDC-DB-02", BK, "Streaming-replication standby",
            "数据库流复制备库（热备）", "database"),
    Control("PESDC-DB-03", BK, "Database dump readable only by the backup server",
            "数据库备份仅由备份服务器拉取", "database"),
    Control("PESDC-APP-01", AC, "Application runtime on loopback behind nginx",
            "应用运行于本地回环，由 nginx 反向代理", "appserver"),
    Control("PESDC-WEB-01", DI, "nginx with TLS for internet-facing services",
            "互联网服务采用 TLS 加密传输", "web"),
    Control("PESDC-BAS-01", AU, "Bastion: SSH client policy and session logging",
            "堡垒机：SSH 客户端策略与会话审计", "bastion"),
    Control("PESDC-BAK-01", BK, "Backup store, scheduled pulls from the databases, retention",
            "备份存储、定时拉取数据库备份与留存", "backup"),
    Control("PESDC-NTP-01", AU, "Time source serving the center", "时间源为全中心授时",
            "timesource"),
    Control("PESDC-NTP-02", AU, "chronyd disciplines the system clock",
            "chronyd 调整系统时钟", "timesource", lab_safe=False),
)

BY_ID: dict[str, Control] = {c.id: c for c in CONTROLS}


def control(cid: str) -> Control:
    return BY_ID[cid]


def tag(cid: str, what: str) -> str:
    """The operation name every engine uses: ``[PESDC-BL-07] sshd hardened``."""
    return f"[{cid}] {what}"


def controls_for(roles: list[str]) -> list[Control]:
    return [c for c in CONTROLS if c.role == "baseline" or c.role in roles]

"""Chinese and English labels for the model's enumerations and report headings.

``label(value, lang)`` takes an enum member (or a heading key) and returns its
display text; unknown values fall back to their own string.
"""

from __future__ import annotations

from enum import Enum

from pesdc.model.schema import (
    DeviceKind,
    Encryption,
    IsolationType,
    Owner,
    ServerRole,
    SiteKind,
    SystemKind,
    Tier,
    UplinkKind,
    ZoneKind,
)

LANGS = ("en", "zh")

# StrEnum members hash like their values ("none" is an IsolationType, an Encryption
# and a word), so entries are keyed by (enum class or None, value) below.
_ZH_ENTRIES: list[tuple[Enum | str, str]] = [
    (Tier.ministry, "部级"),
    (Tier.province, "省级"),
    (Tier.city, "地市级"),
    (ZoneKind.production, "生产区"),
    (ZoneKind.exchange, "交换区"),
    (ZoneKind.decision, "决策区"),
    (ZoneKind.security_management, "安全管理区"),
    (ZoneKind.internet, "互联网接入区"),
    (ZoneKind.private_network, "业务专网接入区"),
    (IsolationType.physical, "物理隔离"),
    (IsolationType.gatekeeper, "网闸"),
    (IsolationType.firewall, "防火墙"),
    (IsolationType.none, "不隔离"),
    (DeviceKind.core_switch, "核心交换机"),
    (DeviceKind.aggregation_switch, "汇聚交换机"),
    (DeviceKind.access_switch, "接入交换机"),
    (DeviceKind.router, "路由器"),
    (DeviceKind.firewall, "防火墙"),
    (DeviceKind.gatekeeper, "网闸"),
    (DeviceKind.ids, "入侵检测"),
    (DeviceKind.ips, "入侵防御"),
    (DeviceKind.vpn_gateway, "VPN网关"),
    (DeviceKind.bastion, "堡垒机"),
    (DeviceKind.log_audit, "日志审计"),
    (DeviceKind.db_audit, "数据库审计"),
    (DeviceKind.antivirus, "防病毒"),
    (DeviceKind.load_balancer, "负载均衡"),
    (ServerRole.baseline, "基线"),
    (ServerRole.appserver, "应用服务器"),
    (ServerRole.web, "Web服务器"),
    (ServerRole.database, "数据库服务器"),
    (ServerRole.logserver, "日志服务器"),
    (ServerRole.bastion, "堡垒机"),
    (ServerRole.backup, "备份"),
    (ServerRole.timesource, "时间源"),
    (ServerRole.antivirus, "防病毒"),
    (ServerRole.monitoring, "监控"),
    (SystemKind.pes_mis, "公共就业服务管理信息系统"),
    (SystemKind.fund_supervision, "基金监管软件"),
    (SystemKind.data_exchange, "数据交换平台"),
    (SystemKind.employment_website, "就业服务网站系统"),
    (SystemKind.phone_consultation, "电话咨询服务系统"),
    (SystemKind.cross_region_service, "异地就业服务系统"),
    (SystemKind.cross_region_bus, "异地服务总线"),
    (SystemKind.network_monitoring, "联网监测软件"),
    (SystemKind.decision_support, "决策支持系统"),
    (SystemKind.statistics_reports, "统计报表"),
    (SystemKind.talent_legacy, "人才中心原有系统"),
    (SystemKind.other, "其他"),
    (Owner.employment_center, "公共就业服务中心"),
    (Owner.talent_center, "公共人才服务中心"),
    (Owner.hrss_bureau, "人社局"),
    (SiteKind.district_agency, "区县就业服务机构"),
    (SiteKind.street_station, "街道/乡镇人社所"),
    (SiteKind.community_station, "社区/村人社站"),
    (SiteKind.job_agency, "职业中介机构"),
    (SiteKind.training_institution, "职业培训机构"),
    (SiteKind.entrepreneurship_agency, "创业服务机构"),
    (SiteKind.skill_appraisal_center, "职业技能鉴定机构"),
    (SiteKind.social_insurance_agency, "社会保险经办机构"),
    (SiteKind.labor_inspection, "劳动监察部门"),
    (SiteKind.agency_machine_room, "服务机构机房"),
    (Encryption.none, "不加密"),
    (Encryption.ipsec, "IPsec"),
    (Encryption.sm_vpn, "国密VPN"),
    (Encryption.macsec, "MACsec"),
    (UplinkKind.city_province, "市-省"),
    (UplinkKind.province_ministry, "省-部"),
    (UplinkKind.ministry_city, "部-市"),
    # headings and words
    ("data center", "数据中心"),
    ("name", "名称"),
    ("title", "名称(中文)"),
    ("tier", "层级"),
    ("division code", "行政区划代码"),
    ("parent", "上级"),
    ("stage", "阶段"),
    ("hosted by", "由其托管"),
    ("zones", "分区"),
    ("kind", "类型"),
    ("segments", "网段"),
    ("subnet", "子网"),
    ("gateway", "网关"),
    ("vlan", "VLAN"),
    ("isolation", "隔离矩阵"),
    ("devices", "网络与安全设备"),
    ("platform", "平台"),
    ("model", "型号"),
    ("mgmt", "管理地址"),
    ("redundancy", "冗余伙伴"),
    ("servers", "服务器"),
    ("roles", "角色"),
    ("zone", "分区"),
    ("address", "地址"),
    ("os", "操作系统"),
    ("location", "位置"),
    ("databases", "数据库"),
    ("engine", "引擎"),
    ("primary", "主库"),
    ("standby", "备库"),
    ("backup", "备份目标"),
    ("port", "端口"),
    ("systems", "应用系统"),
    ("owner", "所属"),
    ("ports", "端口"),
    ("public", "面向公众"),
    ("service functions", "服务功能(表1)"),
    ("function", "服务功能"),
    ("supporting systems", "支撑系统"),
    ("status", "状态"),
    ("complete", "完整"),
    ("missing", "缺失"),
    ("sites", "市域网站点"),
    ("count", "数量"),
    ("links", "市域网链路"),
    ("bandwidth", "带宽"),
    ("latency", "时延"),
    ("encryption", "加密"),
    ("shared with social insurance", "与社保共用"),
    ("uplinks", "业务专网上联"),
    ("peer", "对端"),
    ("device", "设备"),
    ("machine rooms", "仍在使用的机构机房"),
    ("hosted servers", "所在服务器"),
    ("yes", "是"),
    ("border", "边界"),
    ("no", "否"),
    ("none", "无"),
    ("denied", "拒绝(未声明)"),
    ("flows", "条规则"),
    ("datacenter", "数据中心"),
    ("center", "数据中心"),
    ("municipal network", "市域网"),
    ("hosted note", "本市无独立数据中心，由省中心托管"),
]


def _key(value: Enum | str) -> tuple[type | None, str]:
    if isinstance(value, Enum):
        return type(value), str(value.value)
    return None, value


_ZH: dict[tuple[type | None, str], str] = {_key(k): v for k, v in _ZH_ENTRIES}


# English overrides where the enum value is not a good label.
_EN: dict[tuple[type | None, str], str] = {_key(k): v for k, v in [
    (SystemKind.pes_mis, "PES MIS"),
    (Encryption.ipsec, "IPsec"),
    (Encryption.sm_vpn, "SM VPN"),
    (Encryption.macsec, "MACsec"),
    (DeviceKind.ids, "IDS"),
    (DeviceKind.ips, "IPS"),
    (DeviceKind.vpn_gateway, "VPN gateway"),
]}


def label(value: Enum | str, lang: str) -> str:
    """Display text of an enum member or heading key in ``lang`` ("en" or "zh")."""
    if lang == "zh":
        hit = _ZH.get(_key(value))
        if hit is not None:
            return hit
    hit = _EN.get(_key(value))
    if hit is not None:
        return hit
    if isinstance(value, Enum):
        return str(value.value).replace("_", " ")
    return value


def both(value: Enum | str) -> str:
    """"中文 english" for labels that carry both languages (diagram edges)."""
    zh = label(value, "zh")
    en = label(value, "en")
    return en if zh == en else f"{zh} {en}"


def title(obj_title: object, lang: str, fallback: str = "") -> str:
    """The zh or en half of a model ``Title`` (or the fallback when there is none)."""
    if obj_title is None:
        return fallback
    return str(getattr(obj_title, lang if lang in LANGS else "en", fallback))

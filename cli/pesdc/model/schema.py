"""The topology schema: what one data-center file may say.

Every class forbids unknown keys, so a typo is an error and not a silently ignored
setting. Cross-object rules (references, addressing, the source document's rules)
live in ``pesdc.rules``; this module only says what shape each object has.
"""

from __future__ import annotations

import ipaddress
import weakref
from collections.abc import Callable
from enum import EnumMeta, StrEnum
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from pesdc.model.netparse import address_int, is_canonical_subnet
from pesdc.model.text import (
    MAX_TEXT,
    N_,
    Banner,
    Description,
    IfName,
    Invalid,
    Name,
    PeerRef,
    RemoteRef,
    ShortText,
    check_one_line,
    strings_in,
)
from pesdc.model.text import Title as TitleText
from pesdc.platforms import platform_values

DivisionCode = Annotated[str, Field(pattern=r"^[0-9]{6}$")]
Port = Annotated[int, Field(ge=1, le=65535)]
# "SRC->DST": the two zone names of a gatekeeper pair (spaces around the arrow allowed).
DIRECTION_PATTERN = (r"^ *[A-Za-z0-9][A-Za-z0-9_.-]* *-> *[A-Za-z0-9][A-Za-z0-9_.-]* *$")


class Tier(StrEnum):
    ministry = "ministry"
    province = "province"
    city = "city"


class ZoneKind(StrEnum):
    production = "production"  # 生产区
    exchange = "exchange"  # 交换区
    decision = "decision"  # 决策区
    security_management = "security_management"  # 安全管理中心
    internet = "internet"  # 互联网接入区 (public-facing area)
    # 业务专网接入区: where municipal links and the ministry-province-city uplinks land.
    private_network = "private_network"


class IsolationType(StrEnum):
    physical = "physical"  # air gap: nothing crosses
    gatekeeper = "gatekeeper"  # 网闸: one-way crossing
    firewall = "firewall"  # explicit allow list, default deny
    none = "none"  # same broadcast/routing domain, nothing enforced


class DeviceKind(StrEnum):
    core_switch = "core_switch"
    aggregation_switch = "aggregation_switch"
    access_switch = "access_switch"
    router = "router"
    firewall = "firewall"
    gatekeeper = "gatekeeper"
    ids = "ids"
    ips = "ips"
    vpn_gateway = "vpn_gateway"
    bastion = "bastion"
    log_audit = "log_audit"
    db_audit = "db_audit"
    antivirus = "antivirus"
    load_balancer = "load_balancer"


# A device's platform (the vendor's OS line): one member per value the family folders
# serve (pesdc/platforms/<family>/family.yaml), so there is no list to edit; the model
# then picks the family (pesdc.platforms.family_of, rule PLAT001).
if TYPE_CHECKING:
    class _PlatformMembers(EnumMeta):
        def __getattr__(cls, name: str) -> Platform: ...

    class Platform(StrEnum, metaclass=_PlatformMembers):
        """Members are the platform folders' names (mypy cannot list them)."""
else:
    Platform = StrEnum("Platform", [(name, name) for name in platform_values()],
                       module=__name__)


class OsFamily(StrEnum):
    debian = "debian"
    rhel = "rhel"


class ServerRole(StrEnum):
    baseline = "baseline"
    appserver = "appserver"
    web = "web"
    database = "database"
    logserver = "logserver"
    bastion = "bastion"
    backup = "backup"
    timesource = "timesource"
    antivirus = "antivirus"
    monitoring = "monitoring"


class SystemKind(StrEnum):
    pes_mis = "pes_mis"  # 公共就业服务管理信息系统
    fund_supervision = "fund_supervision"  # 基金监管软件
    data_exchange = "data_exchange"  # 数据交换平台
    employment_website = "employment_website"  # 就业服务网站系统
    phone_consultation = "phone_consultation"  # 电话咨询服务系统
    cross_region_service = "cross_region_service"  # 异地就业服务系统
    cross_region_bus = "cross_region_bus"  # 异地服务总线
    network_monitoring = "network_monitoring"  # 联网监测软件
    decision_support = "decision_support"  # 决策支持系统
    statistics_reports = "statistics_reports"  # 统计报表
    talent_legacy = "talent_legacy"  # 公共人才服务中心原有系统
    other = "other"


class Owner(StrEnum):
    employment_center = "employment_center"  # 公共就业服务中心
    talent_center = "talent_center"  # 公共人才服务中心
    hrss_bureau = "hrss_bureau"  # 人社局 (the data center itself)


class SiteKind(StrEnum):
    district_agency = "district_agency"  # 区县公共就业服务机构
    street_station = "street_station"  # 街道/乡镇人社所
    community_station = "community_station"  # 社区/行政村人社站
    job_agency = "job_agency"  # 职业中介机构
    training_institution = "training_institution"  # 职业培训机构
    entrepreneurship_agency = "entrepreneurship_agency"  # 创业服务机构
    skill_appraisal_center = "skill_appraisal_center"  # 职业技能鉴定机构
    social_insurance_agency = "social_insurance_agency"  # 社会保险经办机构
    labor_inspection = "labor_inspection"  # 劳动监察部门
    agency_machine_room = "agency_machine_room"  # 服务机构机房


class Encryption(StrEnum):
    none = "none"
    ipsec = "ipsec"
    sm_vpn = "sm_vpn"  # 国密 (SM2/SM4) VPN
    macsec = "macsec"


class UplinkKind(StrEnum):
    city_province = "city_province"
    province_ministry = "province_ministry"
    ministry_city = "ministry_city"  # the direct ministry-to-city path


class Protocol(StrEnum):
    tcp = "tcp"
    udp = "udp"
    icmp = "icmp"


class DbEngine(StrEnum):
    postgresql = "postgresql"
    oracle = "oracle"
    mysql = "mysql"
    dameng = "dameng"
    kingbase = "kingbase"


_NO_SRC: tuple[str, tuple[Any, ...]] = ("", ())


class Strict(BaseModel):
    """Base for every topology object: unknown keys are errors, values are exact."""

    # allow_inf_nan=False: a bandwidth or latency of .inf or .nan is not a number a link has.
    model_config = ConfigDict(extra="forbid", frozen=False, use_enum_values=False,
                              allow_inf_nan=False)
    # Where the object was read (file, YAML path): set by the loader, used by rules
    # to point at a line. Not part of the schema.
    # (A factory returning one shared tuple: a plain default is deep-copied per object.)
    _src: tuple[str, tuple[Any, ...]] = PrivateAttr(default_factory=lambda: _NO_SRC)

    @field_validator("*", mode="after")
    @classmethod
    def _strings_are_data(cls, value: Any) -> Any:
        """Every string of every model is one printable line (see ``model.text``):
        this covers fields whose own type says nothing, including ones added later."""
        if type(value) is str:  # the common case first: this runs for every field
            # Printable ASCII of bounded length without edge spaces passes check_one_line
            # (its first test); said here, that is one call less for half a million.
            if not (value.isascii() and value.isprintable() and len(value) <= MAX_TEXT
                    and value.strip() == value):
                check_one_line(value)
        elif isinstance(value, list | tuple | set | frozenset | dict):
            for s in strings_in(value):
                check_one_line(s)
        return value


def _ip(value: str) -> str:
    try:
        address_int(value)  # ipaddress.ip_address's verdict (netparse)
    except ValueError:
        raise Invalid(N_("{value!r} is not an IP address"), value=value) from None
    return value


def _net(value: str) -> str:
    try:  # the common case, a valid subnet: parsed once, shared with the rules
        if "/" in value and is_canonical_subnet(value):
            return value
    except ValueError:
        pass  # said precisely below
    try:
        net = ipaddress.ip_network(value, strict=False)
    except ValueError:
        raise Invalid(N_("{value!r} is not a subnet (write it as 10.1.2.0/24)"),
                      value=value) from None
    if "/" not in value:
        raise Invalid(N_("{value!r} needs a prefix length, e.g. {address}/24"), value=value,
                      address=net.network_address)
    if str(net) != value:
        raise Invalid(N_("{value} has host bits set; the network is {net}"), value=value,
                      net=net)
    return value


IPAddr = Annotated[str, AfterValidator(_ip)]
Subnet = Annotated[str, AfterValidator(_net)]


class Title(Strict):
    zh: TitleText
    en: TitleText


class Segment(Strict):
    name: Name
    subnet: Subnet
    gateway: IPAddr | None = None
    vlan: int | None = Field(default=None, ge=1, le=4094)
    description: Description | None = None



class Zone(Strict):
    name: Name
    kind: ZoneKind
    title: Title | None = None
    segments: list[Segment] = Field(default_factory=list)


class Flow(Strict):
    """One allowed crossing of a firewalled boundary; everything else is denied."""

    name: Name | None = None
    src: Name
    dst: Name
    src_systems: list[Name] = Field(default_factory=list)
    dst_systems: list[Name] = Field(default_factory=list)
    # The far side of a flow across the business private network: on the side that is
    # the private-network zone, the servers (or systems) of other centers, "center/name".
    src_remote: list[RemoteRef] = Field(default_factory=list)
    dst_remote: list[RemoteRef] = Field(default_factory=list)
    protocol: Protocol
    ports: list[Port] = Field(default_factory=list)
    description: Description | None = None

    @model_validator(mode="after")
    def _ports_match_protocol(self) -> Flow:
        if self.protocol is Protocol.icmp and self.ports:
            raise Invalid(N_("icmp flows take no ports"))
        if self.protocol is not Protocol.icmp and not self.ports:
            raise Invalid(N_("{protocol} flows need at least one port"),
                          protocol=self.protocol.value)
        return self


class Isolation(Strict):
    between: list[Name] = Field(min_length=2, max_length=2)
    type: IsolationType
    # For a gatekeeper: the only direction data may cross, "SRC->DST" of the two zones.
    direction: Annotated[str, Field(pattern=DIRECTION_PATTERN)] | None = None
    flows: list[Flow] = Field(default_factory=list)
    enforced_by: list[Name] = Field(default_factory=list)
    description: Description | None = None

    @model_validator(mode="after")
    def _shape(self) -> Isolation:
        if self.type is IsolationType.gatekeeper:
            if not self.direction:
                raise Invalid(N_("a gatekeeper needs direction: SRC->DST (one-way)"))
            parts = [p.strip() for p in self.direction.split("->")]
            if len(parts) != 2 or set(parts) != set(self.between):
                raise Invalid(N_("direction {direction!r} must be 'A->B' with A and B the two "
                                 "zones of between {between}"),
                              direction=self.direction, between=self.between)
            src, dst = self.one_way or ("", "")
            for flow in self.flows:
                if (flow.src, flow.dst) != (src, dst):
                    raise Invalid(N_("gatekeeper flow {src}->{dst} goes against its one-way "
                                     "direction {direction}"), src=flow.src, dst=flow.dst,
                                  direction=self.direction)
        elif self.direction is not None:
            raise Invalid(N_("direction applies only to type: gatekeeper"))
        if self.type in (IsolationType.physical, IsolationType.none) and self.flows:
            raise Invalid(N_("flows apply to firewall and gatekeeper pairs, not {type}"),
                          type=self.type.value)
        return self

    @property
    def one_way(self) -> tuple[str, str] | None:
        if self.direction is None:
            return None
        a, b = (p.strip() for p in self.direction.split("->"))
        return a, b


class Interface(Strict):
    name: IfName
    description: Description | None = None
    # What the interface connects to: exactly one of segment, link, uplink, peer.
    segment: Name | None = None
    link: Name | None = None
    uplink: Name | None = None
    # The upper end of a lower center's uplink, "center/uplink" (a province router's
    # port for a city's city_province uplink): its subnet and addresses are that uplink's.
    downlink: RemoteRef | None = None
    peer: PeerRef | None = None  # "device" or "device:interface"
    address: IPAddr | None = None  # host address; the prefix comes from the segment/link
    # Member of a VRRP group whose virtual address is the segment's gateway.
    vrrp_group: int | None = Field(default=None, ge=1, le=255)
    vrrp_priority: int = Field(default=100, ge=1, le=254)
    enabled: bool = True


    @model_validator(mode="after")
    def _one_target(self) -> Interface:
        targets = [t for t in (self.segment, self.link, self.uplink, self.downlink, self.peer)
                   if t]
        if len(targets) > 1:
            raise Invalid(N_("an interface connects to one of segment, link, uplink, "
                             "downlink or peer"))
        return self


class StaticRoute(Strict):
    prefix: Subnet
    next_hop: IPAddr
    description: Description | None = None



class Ospf(Strict):
    area: Annotated[str, Field(pattern=r"^([0-9]{1,10}|[0-9]{1,3}(\.[0-9]{1,3}){3})$")] = \
        "0.0.0.0"
    router_id: IPAddr | None = None
    fast_timers: bool = True


class Device(Strict):
    name: Name
    kind: DeviceKind
    platform: Platform
    model: ShortText
    mgmt: IPAddr
    title: Title | None = None
    group: Name | None = None
    location: Name = "datacenter"
    redundancy: Name | None = None
    loopback: IPAddr | None = None
    interfaces: list[Interface] = Field(default_factory=list)
    static_routes: list[StaticRoute] = Field(default_factory=list)
    ospf: Ospf | None = None
    # A border firewall faces outside the center (internet, uplinks); redundancy required.
    border: bool = False



class Server(Strict):
    name: Name
    roles: list[ServerRole] = Field(min_length=1)
    zone: Name
    segment: Name | None = None  # required in the data center; absent in an agency room
    address: IPAddr
    os: OsFamily = OsFamily.debian
    os_release: ShortText | None = None  # e.g. bookworm, openEuler 22.03, Kylin V10
    location: Name = "datacenter"  # "datacenter" or the name of an agency machine room site
    group: Name | None = None
    title: Title | None = None



class OffsiteBackup(Strict):
    """Where a database's off-site copy lives (异地备份, GB/T 22239 8.1.4.9): a backup
    server of another center, which pulls it over the business private network."""

    center: Name
    server: Name


class OffsiteStandby(OffsiteBackup):
    """Where a database's off-site real-time copy lives (异地实时备份, GB/T 22239
    8.1.4.9 b): a database server of another center that streams the primary's whole
    cluster (PostgreSQL physical replication) over the business private network."""


class Database(Strict):
    name: Name
    engine: DbEngine = DbEngine.postgresql
    version: ShortText | None = None
    primary: Name
    standby: Name | None = None
    backup_target: Name | None = None
    offsite_backup: OffsiteBackup | None = None
    offsite_standby: OffsiteStandby | None = None
    port: Port = 5432


class ServicePort(Strict):
    port: Port
    protocol: Literal["tcp", "udp"] = "tcp"
    name: Name | None = None


class System(Strict):
    name: Name
    kind: SystemKind
    title: Title | None = None
    owner: Owner = Owner.employment_center
    servers: list[Name] = Field(min_length=1)
    ports: list[ServicePort] = Field(default_factory=list)
    database: Name | None = None
    # Internet-facing: the website and the telephone center serve the public.
    public: bool = False


class Site(Strict):
    name: Name
    kind: SiteKind
    title: Title | None = None
    parent: Name | None = None  # the site this one hangs off; absent: the center
    subnet: Subnet | None = None
    router: IPAddr | None = None  # the site router's LAN address
    group: Name | None = None
    owner: Owner | None = None  # for an agency machine room: whose systems it holds
    shares_premises_with_social_insurance: bool = False



class Link(Strict):
    name: Name
    a: Name  # "center" or a site
    b: Name
    bandwidth_mbps: float = Field(gt=0)
    latency_ms: float = Field(default=1.0, ge=0)
    subnet: Subnet | None = None  # the point-to-point subnet
    a_address: IPAddr | None = None
    b_address: IPAddr | None = None
    redundant_with: Name | None = None
    encryption: Encryption = Encryption.none
    shared_with_social_insurance: bool = False
    group: Name | None = None



class Uplink(Strict):
    name: Name
    kind: UplinkKind
    peer: Name  # the data center at the other end
    bandwidth_mbps: float = Field(gt=0)
    latency_ms: float = Field(default=5.0, ge=0)
    subnet: Subnet | None = None
    local_address: IPAddr | None = None
    peer_address: IPAddr | None = None
    encryption: Encryption = Encryption.ipsec
    device: Name | None = None  # the local router or firewall that terminates it
    # Set by pesdc.model.downlinks on an upper center's mirror of a lower center's
    # uplink ("center/uplink" of a downlink interface); never written in a topology.
    _downlink_of: str | None = PrivateAttr(default=None)

    @property
    def downlink_of(self) -> str | None:
        return self._downlink_of



class Admins(Strict):
    """The three separated administrator accounts graded protection asks for (三权分立)."""

    system: Name = "sysadmin"  # 系统管理员
    audit: Name = "auditadmin"  # 审计管理员
    security: Name = "secadmin"  # 安全管理员


class Security(Strict):
    """Hardening values that devices and servers are rendered with.

    The defaults are the common GB/T 22239-2019 level-3 practice; an audit profile may
    demand stricter ones. Secrets are never here: configurations carry markers that
    the push step fills from the environment or a secrets file.
    """

    admins: Admins = Field(default_factory=Admins)
    password_min_length: int = Field(default=12, ge=8, le=64)
    password_max_days: int = Field(default=90, ge=1, le=365)
    login_fail_attempts: int = Field(default=5, ge=1, le=10)
    lockout_minutes: int = Field(default=15, ge=1, le=1440)
    idle_timeout_minutes: int = Field(default=10, ge=1, le=60)
    log_retention_days: int = Field(default=180, ge=180)
    snmp_user: Name = "pesdc-monitor"
    banner: Banner = ("Authorized use only. All activity is logged and audited. "
                   "仅限授权使用, 所有操作均被记录和审计.")


class DataCenter(Strict):
    name: Name
    tier: Tier
    division_code: DivisionCode
    title: Title
    parent: Name | None = None
    # A city without its own center names the province center that hosts it.
    hosted_by: Name | None = None
    stage: Literal[1, 2, 3] | None = None
    # Below this a link to an agency machine room is not "high speed" (source: 高速网络).
    high_speed_mbps: float = Field(default=100.0, gt=0)
    security: Security = Field(default_factory=Security)
    zones: list[Zone] = Field(default_factory=list)
    isolation: list[Isolation] = Field(default_factory=list)
    devices: list[Device] = Field(default_factory=list)
    servers: list[Server] = Field(default_factory=list)
    databases: list[Database] = Field(default_factory=list)
    systems: list[System] = Field(default_factory=list)
    sites: list[Site] = Field(default_factory=list)
    links: list[Link] = Field(default_factory=list)
    uplinks: list[Uplink] = Field(default_factory=list)

    @property
    def hosted(self) -> bool:
        return self.hosted_by is not None

    if not TYPE_CHECKING:
        def __getattr__(self, item: str) -> Any:
            # A center from the validated-model cache may come without the fields the
            # tree-wide checks do not read (pesdc.model.modelcache.LAZY_FIELDS): they
            # are read in, all at once, when one of them is first wanted.
            pending = _PENDING.get(id(self)) if item in type(self).model_fields else None
            if pending is not None and pending[0]() is self:
                del _PENDING[id(self)]
                rest = pending[1]()
                values = self.__dict__
                object.__setattr__(self, "__dict__", {
                    k: values[k] if k in values else rest[k] for k in type(self).model_fields})
                return getattr(self, item)
            return super().__getattr__(item)


# Centers whose other fields are still to be read: id -> (the center, weakly; the
# reader of the fields). See DataCenter.__getattr__ and modelcache.get.
_PENDING: dict[int, tuple[weakref.ref[DataCenter], Callable[[], dict[str, Any]]]] = {}


def defer(dc: DataCenter, rest: Callable[[], dict[str, Any]]) -> None:
    """``dc`` lacks some fields: ``rest()`` gives them when one is first read."""
    key = id(dc)
    _PENDING[key] = (weakref.ref(dc, lambda _: _PENDING.pop(key, None)), rest)


# The sections whose items take defaults/kinds/roles/groups (Nornir-style inheritance).
INHERITING_SECTIONS: dict[str, type[Strict]] = {
    "devices": Device,
    "servers": Server,
    "sites": Site,
    "links": Link,
}
# The key inside each section whose value selects a kind/role default block.
SELECTOR_KEY: dict[str, str] = {
    "devices": "kind",
    "servers": "roles",
    "sites": "kind",
    "links": "",
}


def _private_defaults(model: type[BaseModel]) -> dict[str, Any] | None:
    """The private attributes a new ``model`` object starts with, when each is the same
    immutable value every time (a shared tuple, None); None otherwise."""
    out: dict[str, Any] = {}
    for name, attr in model.__private_attributes__.items():
        if attr.default_factory_takes_validated_data:
            return None
        first = attr.get_default(call_default_factory=True)
        if first is not attr.get_default(call_default_factory=True) or \
                not isinstance(first, tuple | str | int | type(None)):
            return None
        out[name] = first
    return out


def _init_private(self: BaseModel, context: Any, /) -> None:
    """pydantic's init_private_attributes for a model whose private defaults are fixed
    values (``_private_defaults``): the dict copied, in one call per object. Pydantic
    calls its own twice per object of a subclass (once as the base's post-init), with a
    call per attribute: 140,000 objects in a national tree."""
    if getattr(self, "__pydantic_private__", None) is None:
        object.__setattr__(self, "__pydantic_private__",
                           dict(type(self).__dict__["_pesdc_private_defaults"]))


def _fast_private_init(model: type[Strict]) -> None:
    for sub in model.__subclasses__():
        _fast_private_init(sub)
    defaults = _private_defaults(model)
    if defaults is not None:
        model._pesdc_private_defaults = defaults  # type: ignore[attr-defined]
        model.model_post_init = _init_private  # type: ignore[method-assign]


_fast_private_init(Strict)

"""The ordered runbook of a stage move, in Markdown or HTML, Chinese or English.

The runbook is built once as data (sections of steps, each step a title, lines of text
and commands), then rendered by ``templates/stages/runbook.{md,html}.j2``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from pesdc.model.schema import Database, DataCenter, System
from pesdc.model.tree import Topology
from pesdc.render.engine import TEMPLATES
from pesdc.stages.target import ServerMove, StagePlan

T: dict[str, dict[str, str]] = {
    "title": {"en": "Runbook: {dc} from stage {frm} to stage {to}",
              "zh": "操作手册: {dc} 从第{frm}阶段到第{to}阶段"},
    "summary": {"en": "Summary", "zh": "概要"},
    "moves": {"en": "{n} server(s) and {d} device(s) leave {r} machine room(s); {f} firewall "
                    "flow(s) are opened first; {x} room(s) can be decommissioned at the end.",
              "zh": "{n} 台服务器和 {d} 台设备迁出 {r} 个机房; 先开通 {f} 条防火墙策略; "
                    "结束后可撤销 {x} 个机房."},
    "blocking": {"en": "Blocking problems (resolve before starting)",
                 "zh": "阻断问题 (开始前必须解决)"},
    "system": {"en": "System {name}", "zh": "系统 {name}"},
    "pre": {"en": "Prerequisites", "zh": "前置条件"},
    "link": {"en": "Link to machine room {room}: {link}, {bw:g} Mbit/s, {lat:g} ms round "
                   "trip ({hs}); about {spg} s per GiB of data.",
             "zh": "到机房 {room} 的链路: {link}, {bw:g} Mbit/s, 往返 {lat:g} ms ({hs}); "
                   "每 GiB 数据约 {spg} 秒."},
    "hs_yes": {"en": "high speed", "zh": "高速"},
    "hs_no": {"en": "NOT high speed: raise it first", "zh": "非高速: 先扩容"},
    "cap": {"en": "Segment {seg} (zone {zone}, {subnet}): {free} free address(es) "
                  "(computed from every server, device, interface and gateway), "
                  "{need} needed, {after} left; assigned: {assigned}.",
            "zh": "网段 {seg} (区域 {zone}, {subnet}): 空闲地址 {free} 个 (按所有服务器, "
                  "设备, 接口和网关计算), 需要 {need} 个, 剩余 {after} 个; 分配: {assigned}."},
    "flow": {"en": "Open flow {name}: {src} -> {dst} {proto} {ports} to {systems} "
                   "({why}).",
             "zh": "开通策略 {name}: {src} -> {dst} {proto} {ports} 至 {systems} ({why})."},
    "no_flow": {"en": "No new firewall flow is needed: the existing matrix covers it.",
                "zh": "无需新增防火墙策略: 现有策略已覆盖."},
    "push": {"en": "Render and push the policy with the flows added (before any move):",
             "zh": "渲染并下发新增策略后的配置 (迁移之前):"},
    "prepare": {"en": "Prepare the new hosts", "zh": "准备新主机"},
    "host": {"en": "{server}: {old} in {room} -> {new} in segment {seg} (roles {roles}).",
             "zh": "{server}: {room} 中的 {old} -> 网段 {seg} 的 {new} (角色 {roles})."},
    "migrate": {"en": "Data migration", "zh": "数据迁移"},
    "db": {"en": "Database {db} ({engine} {version}): primary {primary}{standby}.",
           "zh": "数据库 {db} ({engine} {version}): 主库 {primary}{standby}."},
    "freeze": {"en": "Freeze writes: stop the application on the room hosts and set the "
                     "database read-only, so nothing written is lost.",
               "zh": "冻结写入: 停止机房主机上的应用, 数据库设为只读, 保证数据不丢失."},
    "count": {"en": "Record row counts and checksums on the room primary (every table):",
              "zh": "在机房主库记录行数和校验和 (每张表):"},
    "dump": {"en": "Dump on the room primary and copy over the room link "
                   "(pg_dump custom format):",
             "zh": "在机房主库导出并经机房链路复制 (pg_dump 自定义格式):"},
    "restore": {"en": "Restore on the new primary:", "zh": "在新主库恢复:"},
    "compare": {"en": "Compare row counts and checksums on the new primary with the "
                      "recorded ones; any difference stops here (rollback).",
                "zh": "在新主库比对行数和校验和; 任何不一致即在此停止 (回退)."},
    "alt": {"en": "Alternative with the same major version on both ends: build the new "
                  "host as a streaming replica of the room primary, then promote it at "
                  "the cut-over (shorter freeze).",
            "zh": "两端主版本相同时的替代方案: 新主机作为机房主库的流复制备库, 切换时提升为主库 "
                  "(冻结时间更短)."},
    "standby": {"en": "The new standby {standby} is rebuilt from the new primary "
                      "(pg_basebackup) by the apply of the target topology.",
                "zh": "新备库 {standby} 由目标拓扑的 apply 从新主库重建 (pg_basebackup)."},
    "nodb": {"en": "No database moves with this system.", "zh": "该系统无数据库迁移."},
    "cutover": {"en": "Cut-over", "zh": "切换"},
    "dns": {"en": "Point the service name {name} (DNS record or load-balancer VIP) from "
                  "{old} to {new}.",
            "zh": "将服务名 {name} (DNS 记录或负载均衡 VIP) 从 {old} 指向 {new}."},
    "switch": {"en": "Switch the firewall flows: render the target topology and push it "
                     "(the room path is no longer used), then apply the moved hosts:",
               "zh": "切换防火墙策略: 渲染并下发目标拓扑 (不再使用机房路径), 然后 apply 迁移主机:"},
    "verify": {"en": "Verification", "zh": "验证"},
    "verify_text": {"en": "Prove it: hosts (services, replication), isolation with real "
                          "packets, the firewall policy read back; row counts and checksums "
                          "equal to the recorded ones.",
                    "zh": "证明: 主机 (服务, 复制), 真实报文的隔离探测, 读回防火墙策略; "
                          "行数和校验和与记录一致."},
    "rollback": {"en": "Rollback", "zh": "回退"},
    "rollback_text": {"en": "Point {name} back to {old}; set the room database read-write and "
                            "start the application there; push the previous topology's "
                            "policy; discard the new hosts' copy. The room data was frozen, "
                            "so nothing is lost: compare row counts and checksums with the "
                            "recorded ones.",
                      "zh": "将 {name} 指回 {old}; 机房数据库恢复读写并启动应用; 下发原拓扑策略; "
                            "丢弃新主机上的副本. 机房数据已冻结, 不会丢失: 比对行数和校验和."},
    "devices": {"en": "Devices leaving machine rooms", "zh": "迁出机房的设备"},
    "device": {"en": "{dev}: management {old} in {room} -> {new} in segment {seg}.",
               "zh": "{dev}: 管理地址 {room} 中的 {old} -> 网段 {seg} 的 {new}."},
    "decom": {"en": "Decommission machine rooms", "zh": "撤销机房"},
    "decom_room": {"en": "{room}: remove the site, its link {links} and the router "
                         "interface; power off its hosts after the retention period.",
                   "zh": "{room}: 删除站点, 链路 {links} 和路由器接口; 保留期满后关闭其主机."},
    "no_decom": {"en": "No machine room empties at this stage.",
                 "zh": "本阶段没有机房被清空."},
    "final": {"en": "Final check", "zh": "最终检查"},
    "final_text": {"en": "Validate the target, verify the whole center and audit it:",
                   "zh": "校验目标拓扑, 全面验证并审计:"},
    "nothing": {"en": "Nothing moves: {dc} already meets stage {to}.",
                "zh": "无需迁移: {dc} 已满足第{to}阶段."},
}


def t(key: str, lang: str, **kw: Any) -> str:
    return T[key][lang].format(**kw)


@dataclass
class Step:
    title: str
    lines: list[str] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)


@dataclass
class Section:
    title: str
    steps: list[Step] = field(default_factory=list)


def count_sql() -> str:
    """Row count and an order-independent-of-storage checksum of every user table."""
    return ("DO $$ DECLARE r record; n bigint; h text; BEGIN FOR r IN SELECT schemaname, "
            "tablename FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', "
            "'information_schema') ORDER BY 1, 2 LOOP EXECUTE format('SELECT count(*), "
            "md5(coalesce(string_agg(t::text, '','' ORDER BY t::text), '''')) FROM %I.%I t', "
            "r.schemaname, r.tablename) INTO n, h; RAISE NOTICE '%.% % %', r.schemaname, "
            "r.tablename, n, h; END LOOP; END $$;")


TARGET = "TARGET"  # the target topology, as the commands name it


@dataclass
class _Book:
    """What every step of one runbook is written for."""

    plan: StagePlan
    dc: DataCenter
    lang: str
    path: str  # the current topology (what a rollback pushes again)
    lab: str
    live: str = ""  # the city's connection profile: every command on the real center

    @property
    def on_live(self) -> str:
        return f"--live {self.live or self.plan.dc + '.targets.yaml'}"

    @property
    def city(self) -> str:
        return self.plan.dc

    def t(self, key: str, **kw: Any) -> str:
        return t(key, self.lang, **kw)


def build(topo: Topology, plan: StagePlan, lang: str, path: str, lab: str,
          live: str = "") -> dict[str, Any]:
    """``live``: the connection profile the runbook's commands on the real center name
    (default CITY.targets.yaml, as ``pesdc targets init`` writes it)."""
    dc = topo.datacenters[plan.dc]
    book = _Book(plan, dc, lang, path, lab, live)
    sections = [_summary(book)]
    sections += [_system(book, system) for system in plan.systems(topo.index(dc))]
    if plan.device_moves:
        sections.append(_devices(book))
    sections += [_decommission(book), _final(book)]
    frm = plan.from_stage or "-"
    return {"title": t("title", lang, dc=plan.dc, frm=frm, to=plan.to_stage), "lang": lang,
            "source": path, "sections": sections, "target_note": (
                "TARGET = the target topology (--write-target DIR, or --target)"
                if lang == "en" else "TARGET = 目标拓扑 (--write-target DIR 或 --target)")}


def _summary(book: _Book) -> Section:
    plan = book.plan
    summary = Section(book.t("summary"))
    summary.steps.append(Step("", [book.t("moves", n=len(plan.moves),
                                          d=len(plan.device_moves), r=len(plan.room_links),
                                          f=len(plan.flows),
                                          x=len(plan.rooms_decommissioned))]))
    if not plan.moves and not plan.device_moves:
        summary.steps.append(Step("", [book.t("nothing", dc=book.city, to=plan.to_stage)]))
    if plan.problems:
        summary.steps.append(Step(book.t("blocking"), list(plan.problems)))
    return summary


def _system(book: _Book, system: System) -> Section:
    """A system's move, in order: prerequisites, new hosts, data, cut-over, proof, way back."""
    moves = book.plan.moves_of(system)
    db = next((d for d in book.dc.databases if d.name == system.database), None)
    olds = ", ".join(m.old_address for m in moves)
    name = f"{system.name}.{book.city}"
    return Section(book.t("system", name=system.name), [
        _prerequisites(book, system, moves), _prepare(book, moves),
        _migration(book, db, moves) if db is not None else Step(
            book.t("migrate"), [book.t("nodb")]),
        _cutover(book, name, moves), _verification(book),
        Step(book.t("rollback"), [book.t("rollback_text", name=name, old=olds)],
             [f"pesdc net apply {book.path} --dc {book.city} {book.on_live}",
              f"pesdc lab up {book.path} --dc {book.city} --name {book.lab}"])])


def _prerequisites(book: _Book, system: System, moves: list[ServerMove]) -> Step:
    """The room links, the free addresses and the firewall flows the move needs first."""
    plan, city = book.plan, book.city
    pre = Step(book.t("pre"))
    for room in sorted({m.room for m in moves}):
        rl = plan.room_links[room]
        pre.lines.append(book.t("link", room=room, link=rl.link or "-",
                                bw=rl.bandwidth_mbps, lat=rl.latency_ms,
                                hs=book.t("hs_yes" if rl.high_speed else "hs_no"),
                                spg=rl.seconds_per_gib()))
    for cap in plan.capacity:
        if any(m.segment == cap.segment for m in moves):
            pre.lines.append(book.t("cap", seg=cap.segment, zone=cap.zone,
                                    subnet=cap.subnet, free=cap.free_before, need=cap.needed,
                                    after=cap.free_after, assigned=", ".join(cap.assigned)))
    flows = [f for f in plan.flows if f.system == system.name]
    for f in flows:
        pre.lines.append(book.t("flow", name=f.flow.name, src=f.flow.src,
                                dst=f.flow.dst, proto=f.flow.protocol.value,
                                ports=",".join(map(str, f.flow.ports)) or "-",
                                systems=", ".join(f.flow.dst_systems or ["*"]), why=f.why))
    if flows:
        pre.commands += [f"pesdc validate {TARGET}",
                         f"pesdc render {TARGET} --dc {city} -o rendered/ --diff",
                         f"pesdc net apply {TARGET} --dc {city} {book.on_live}  "
                         f"# {book.t('push')}"]
    else:
        pre.lines.append(book.t("no_flow"))
    return pre


def _limit(moves: list[ServerMove]) -> str:
    return " --limit ".join(m.server for m in moves)


def _prepare(book: _Book, moves: list[ServerMove]) -> Step:
    prep = Step(book.t("prepare"))
    for m in moves:
        prep.lines.append(book.t("host", server=m.server, old=m.old_address, room=m.room,
                                 new=m.new_address, seg=m.segment, roles=", ".join(m.roles)))
    prep.commands.append(f"pesdc apply {TARGET} --dc {book.city} {book.on_live} "
                         f"--limit {_limit(moves)}")
    return prep


def _migration(book: _Book, db: Database, moves: list[ServerMove]) -> Step:
    """Freeze, count, dump, restore, compare: the database moves with nothing lost."""
    new = {m.server: m.new_address for m in moves}
    old = {m.server: m.old_address for m in moves}
    primary_old = f"{db.primary}  # {old.get(db.primary, '')}"
    primary_new = f"{db.primary}  # {new.get(db.primary, '')}"
    pg = "sudo -u postgres"
    mig = Step(book.t("migrate"))
    mig.lines.append(book.t("db", db=db.name, engine=db.engine.value,
                            version=db.version or "", primary=db.primary,
                            standby=f", standby {db.standby}" if db.standby else ""))
    mig.lines.append(book.t("freeze"))
    mig.lines.append(book.t("count"))
    src, dst = db.primary, new.get(db.primary, db.primary)
    mig.commands += [
        f"# room primary: {primary_old}; new primary: {primary_new}",
        f"cat > counts.sql <<'SQL'\n{count_sql()}\nSQL",
        f"ssh {src} {pg} psql -X -v ON_ERROR_STOP=1 -c \"'ALTER DATABASE {db.name} "
        "SET default_transaction_read_only = on'\"",
        f"ssh {src} {pg} psql -X -d {db.name} < counts.sql 2> counts-before.txt",
        f"ssh {src} {pg} pg_dump -Fc -d {db.name} > {db.name}.dump",
        f"ssh {dst} {pg} createdb {db.name}",
        f"ssh {dst} {pg} pg_restore --no-owner -d {db.name} < {db.name}.dump",
        f"ssh {dst} {pg} psql -X -d {db.name} < counts.sql 2> counts-after.txt",
        "diff counts-before.txt counts-after.txt",
    ]
    mig.lines.append(book.t("compare"))
    mig.lines.append(book.t("alt"))
    if db.standby:
        mig.lines.append(book.t("standby", standby=db.standby))
    return mig


def _cutover(book: _Book, name: str, moves: list[ServerMove]) -> Step:
    city = book.city
    olds = ", ".join(m.old_address for m in moves)
    news = ", ".join(m.new_address for m in moves)
    return Step(book.t("cutover"), [book.t("dns", name=name, old=olds, new=news),
                                    book.t("switch")],
                [f"pesdc net apply {TARGET} --dc {city} {book.on_live}",
                 f"pesdc lab up {TARGET} --dc {city} --name {book.lab}  # lab rehearsal",
                 f"pesdc apply {TARGET} --dc {city} {book.on_live} --limit {_limit(moves)}"])


def _verification(book: _Book) -> Step:
    city = book.city
    return Step(book.t("verify"), [book.t("verify_text")],
                [f"pesdc verify {TARGET} --dc {city} --lab {book.lab} --only hosts "
                 "--only isolation --only policy", f"pesdc lab probe {TARGET} --dc {city}"])


def _devices(book: _Book) -> Section:
    return Section(book.t("devices"), [Step("", [
        book.t("device", dev=d.device, old=d.old_mgmt, room=d.room, new=d.new_mgmt,
               seg=d.segment) for d in book.plan.device_moves])])


def _decommission(book: _Book) -> Section:
    lines = []
    for room in book.plan.rooms_decommissioned:
        links = [lk.name for lk in book.dc.links if room in (lk.a, lk.b)]
        lines.append(book.t("decom_room", room=room, links=", ".join(links) or "-"))
    return Section(book.t("decom"), [Step("", lines or [book.t("no_decom")])])


def _final(book: _Book) -> Section:
    city, lab = book.city, book.lab
    return Section(book.t("final"), [Step("", [book.t("final_text")], [
        f"pesdc validate {TARGET}", f"pesdc stage check {TARGET}",
        f"pesdc verify {TARGET} --dc {city} --lab {lab}",
        f"pesdc verify {TARGET} --dc {city} {book.on_live}",
        f"pesdc audit {TARGET} --dc {city} {book.on_live}"])])


def render(doc: dict[str, Any], fmt: str) -> str:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
                      autoescape=select_autoescape(["html.j2"]))
    name = "stages/runbook.html.j2" if fmt == "html" else "stages/runbook.md.j2"
    return env.get_template(name).render(**doc)

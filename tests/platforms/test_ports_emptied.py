"""A physical port missing from the intended configuration is emptied, never deleted
(VRP, Comware and IOS reject `undo interface`/`no interface` of a port; annet's
rulebooks empty it the same way). Logical interfaces are still deleted. The device's
own facts (its SNMP engine ID, Comware's VLAN 1) are left alone unless intended. An
account no intended line names is deleted in one line, not emptied line by line. A
new VRP `sysname` replaces the old one, with no negation carrying the old value."""

from __future__ import annotations

from pesdc.netpush.drivers import DRIVERS

VRP_RUNNING = """\
sysname a
#
interface GigabitEthernet0/0/0
 undo shutdown
 ip address 192.168.0.1 255.255.255.0
 service-manage ssh permit
#
interface MEth0/0/1
#
interface GigabitEthernet0/0/1.5
 ip address 10.0.5.1 255.255.255.0
#
interface Vlanif1
 ip address 192.168.1.1 255.255.255.0
#
return
"""


def test_a_vrp_port_is_emptied_and_logical_interfaces_deleted() -> None:
    lines = DRIVERS["huawei_vrp"].syntax.remediation(VRP_RUNNING, "sysname a\n")
    assert lines[lines.index("interface GigabitEthernet0/0/0"):][:4] == [
        "interface GigabitEthernet0/0/0", " undo service-manage ssh permit",
        " undo ip address 192.168.0.1 255.255.255.0", " quit"]
    assert "undo interface GigabitEthernet0/0/0" not in lines
    assert not [ln for ln in lines if "MEth0/0/1" in ln]  # nothing on it: nothing to do
    assert "undo interface GigabitEthernet0/0/1.5" in lines
    assert "undo interface Vlanif1" in lines


def test_an_ios_port_is_emptied() -> None:
    running = ("hostname a\n!\ninterface GigabitEthernet0/1\n description old\n"
               " no ip address\n!\ninterface Loopback0\n ip address 10.0.0.1 255.255.255.255\n!\n"
               "end\n")
    lines = DRIVERS["cisco_ios"].syntax.remediation(running, "hostname a\n!\nend\n")
    assert lines == ["interface GigabitEthernet0/1", " no description old", " exit",
                     "no interface Loopback0"]


def test_device_facts_are_left_alone_unless_intended() -> None:
    running = ("#\n sysname a\n#\nvlan 1\n#\nvlan 10\n#\n snmp-agent\n"
               " snmp-agent local-engineid 800063A280000000000000\n#\nreturn\n")
    syntax = DRIVERS["h3c_comware"].syntax
    assert syntax.remediation(running, "#\n sysname a\n#\n snmp-agent\n#\nreturn\n") \
        == ["undo vlan 10"]
    mine = "#\n sysname a\n#\n snmp-agent\n snmp-agent local-engineid 8000ABCD\n#\nreturn\n"
    lines = syntax.remediation(running, mine)
    assert "snmp-agent local-engineid 8000ABCD" in lines and "undo vlan 1" not in lines


def test_a_new_vrp_host_name_is_sent_alone() -> None:
    """(Comware's syntax has its own hier_config driver, h3c_comware/syntax.py, whose
    one-value rules do not name `sysname` yet.)"""
    for key, running, intended, want in (
            ("huawei_vrp", "sysname HUAWEI\n", "sysname core-1\n", ["sysname core-1"]),
            ("huawei_ce", "sysname HUAWEI\n", "sysname ce-1\n", ["sysname ce-1"]),
            ("cisco_ios", "hostname Switch\n!\nend\n", "hostname acc-1\n!\nend\n",
             ["no hostname Switch", "hostname acc-1"])):
        assert DRIVERS[key].syntax.remediation(running, intended) == want, key


def test_an_account_no_one_intends_is_deleted_not_emptied() -> None:
    running = ("aaa\n local-user admin password irreversible-cipher $1a$X$\n"
               " local-user admin privilege level 15\n"
               " local-user keep password irreversible-cipher $1a$Y$\n"
               " local-user keep privilege level 3\n#\nreturn\n")
    intended = ("aaa\n local-user keep password irreversible-cipher $1a$Y$\n"
                " local-user keep privilege level 1\n#\nreturn\n")
    assert DRIVERS["huawei_vrp"].syntax.remediation(running, intended) == [
        "aaa", " undo local-user admin", " undo local-user keep privilege level 3",
        " local-user keep privilege level 1", " quit"]

"""Huawei USG firewalls: VRP's CLI pushed line by line (huawei_usg/driver.py), a zone
security policy, HRP pairs (huawei_usg/context.py); command reference commands.yaml."""

from __future__ import annotations

from pathlib import Path

from pesdc.platforms.huawei_usg.context import usg_context
from pesdc.platforms.huawei_usg.dialect import UsgDialect
from pesdc.platforms.huawei_usg.driver import USG, UsgDriver
from pesdc.platforms.huawei_usg.policy import READER
from pesdc.platforms.spec import ALL_FEATURES, Feature, Kind, PlatformSpec

PLATFORM = PlatformSpec(
    "huawei_usg", Path(__file__).parent,
    kinds=(Kind("huawei_usg", "huawei_usg", "huawei", "community.network.ce",
                "ansible.netcommon.network_cli", ("device.cfg",),
                ALL_FEATURES - {Feature.vlans}, config_file="device.cfg",
                diff=USG.remediation, reader=READER, context=usg_context),),
    drivers={"huawei_usg": UsgDriver},
    dialect=UsgDialect(),
)

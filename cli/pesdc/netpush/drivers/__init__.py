"""Platform drivers: each platform's folder (pesdc/platforms/<name>/) has its own, on
one interface (``pesdc.platforms.driver.Driver``); these are views of them."""

from __future__ import annotations

from collections.abc import Mapping

from pesdc.platforms import derived, drivers, kinds
from pesdc.platforms.cisco_ios.driver import IosDriver
from pesdc.platforms.driver import (
    ConnectError,
    ConnParams,
    Driver,
    DriverError,
    PushError,
)
from pesdc.platforms.h3c_comware.driver import ComwareDriver
from pesdc.platforms.huawei_vrp.driver import HuaweiDriver, HuaweiVrpv8Driver
from pesdc.platforms.linux.frr import FrrDriver
from pesdc.platforms.linux.nftables import NftDriver

# driver key (a kind name, or a variant chosen per device: huawei_vrpv8) -> driver.
DRIVERS: Mapping[str, type[Driver]] = derived(drivers)

# The file of a kind's rendered set that is the device's configuration (pushed kinds).
CONFIG_FILE: Mapping[str, str] = derived(
    lambda: {k.name: k.config_file for k in kinds().values() if k.config_file})

__all__ = ["CONFIG_FILE", "DRIVERS", "ComwareDriver", "ConnParams", "ConnectError",
           "Driver", "DriverError", "FrrDriver", "HuaweiDriver", "HuaweiVrpv8Driver",
           "IosDriver", "NftDriver", "PushError"]

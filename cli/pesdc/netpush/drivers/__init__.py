"""Platform drivers: one module per platform, one interface (``base.Driver``)."""

from __future__ import annotations

from pesdc.netpush.drivers.base import (
    ConnectError,
    ConnParams,
    Driver,
    DriverError,
    PushError,
)
from pesdc.netpush.drivers.comware import ComwareDriver
from pesdc.netpush.drivers.frr import FrrDriver
from pesdc.netpush.drivers.huawei import HuaweiDriver, HuaweiVrpv8Driver
from pesdc.netpush.drivers.ios import IosDriver
from pesdc.netpush.drivers.nftables import NftDriver

# kind name (pesdc.kinds) -> driver; huawei_vrpv8 is chosen per device (see engine).
DRIVERS: dict[str, type[Driver]] = {
    "linux_frr": FrrDriver,
    "linux_nftables": NftDriver,
    "huawei_vrp": HuaweiDriver,
    "huawei_usg": HuaweiDriver,
    "huawei_vrpv8": HuaweiVrpv8Driver,
    "h3c_comware": ComwareDriver,
    "cisco_ios": IosDriver,
}

# The file of a kind's rendered set that is the device's configuration.
CONFIG_FILE = {
    "linux_frr": "frr.conf",
    "linux_nftables": "nftables.conf",
    "huawei_vrp": "device.cfg",
    "huawei_usg": "device.cfg",
    "h3c_comware": "device.cfg",
    "cisco_ios": "device.cfg",
}

__all__ = ["CONFIG_FILE", "DRIVERS", "ComwareDriver", "ConnParams", "ConnectError",
           "Driver", "DriverError", "FrrDriver", "HuaweiDriver", "HuaweiVrpv8Driver",
           "IosDriver", "NftDriver", "PushError"]

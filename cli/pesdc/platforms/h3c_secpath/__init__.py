"""H3C SecPath firewalls (F1000/F5000/M9000, Comware 7): Comware's CLI and push driver
(h3c_comware), a zone security policy over object groups with Local-zone rules for the
device's own management, RBM between the members of a pair."""

from __future__ import annotations

from pathlib import Path

from pesdc.platforms.h3c_comware.family import comware_family
from pesdc.platforms.h3c_secpath.context import secpath
from pesdc.platforms.h3c_secpath.dialect import SecPathDialect
from pesdc.platforms.h3c_secpath.driver import SecPathDriver
from pesdc.platforms.h3c_secpath.policy import READER
from pesdc.platforms.spec import ALL_FEATURES, Feature

PLATFORM = comware_family("h3c_secpath", Path(__file__).parent,
                          ALL_FEATURES - {Feature.vlans}, SecPathDriver, SecPathDialect(),
                          reader=READER, context=secpath)

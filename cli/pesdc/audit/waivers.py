"""Waivers: a rule or item accepted as not met, with justification, approver and expiry.

```yaml
waivers:
  - id: AUD-AB-04            # a rule id or an item id (8.1.3.3a)
    justification: IPS procured, installation scheduled for Q3
    approver: 张三 (CISO)
    expires: 2025-09-30
```
A waiver applies until the end of its expiry day; after that it no longer applies and
the report says so.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pesdc.audit.catalog import Catalog, CatalogError, read_yaml
from pesdc.audit.result import Waiver


def parse_waivers(data: Any, catalog: Catalog, today: dt.date,
                  name: str = "waivers") -> list[Waiver]:
    if data is None:
        return []
    if isinstance(data, dict):
        data = data.get("waivers")
    if not isinstance(data, list):
        raise CatalogError(f"{name}: expected a list under waivers:")
    out = []
    for i, w in enumerate(data):
        where = f"{name}: waiver {i + 1}"
        if not isinstance(w, dict):
            raise CatalogError(f"{where}: not a mapping")
        missing = [k for k in ("id", "justification", "approver", "expires") if not w.get(k)]
        if missing:
            raise CatalogError(f"{where}: missing {', '.join(missing)}")
        unknown = set(w) - {"id", "justification", "approver", "expires"}
        if unknown:
            raise CatalogError(f"{where}: unknown keys {', '.join(sorted(unknown))}")
        wid = str(w["id"])
        if wid not in catalog.rules and wid not in catalog.items:
            raise CatalogError(f"{where}: {wid} is neither a rule nor an item of the catalog")
        exp = w["expires"]
        if isinstance(exp, dt.datetime):
            exp = exp.date()
        if not isinstance(exp, dt.date):
            try:
                exp = dt.date.fromisoformat(str(exp))
            except ValueError:
                raise CatalogError(f"{where}: expires {exp!r} is not a date (YYYY-MM-DD)"
                                   ) from None
        out.append(Waiver(wid, str(w["justification"]), str(w["approver"]), exp.isoformat(),
                          expired=exp < today))
    return out


def load_waivers(path: Path, catalog: Catalog, today: dt.date) -> list[Waiver]:
    return parse_waivers(read_yaml(path, "waivers"), catalog, today, path.name)

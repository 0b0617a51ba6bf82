"""Child of a lab run: executes inside the controller namespace, prints JSON."""

from __future__ import annotations

import json
import pickle
import sys
from dataclasses import asdict


def main(path: str) -> int:
    from pesdc.netpush.engine import NetpushError, _run
    from pesdc.netpush.secrets import Secrets

    with open(path, "rb") as f:
        job = pickle.load(f)  # written by our own parent, 0600, removed after the run
    try:
        res = _run(job["action"], job["topo"], job["dc"], job["lab"], job["limit"],
                   job["workers"], Secrets.load(), plan=job["plan"])
    except NetpushError as exc:
        print(json.dumps({"error": str(exc)}))
        return 0
    print(json.dumps({"action": res.action, "engine": res.engine,
                      "interrupted": res.interrupted,
                      "hosts": [asdict(h) for h in res.hosts]}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))

"""pesdc_scram_verifier: PostgreSQL's SCRAM-SHA-256 verifier of a password.

The salt is derived from the secret and a seed (the center's name), exactly as the
pyinfra deploy computes it (pesdc.provision.deploys.scram_verifier), so that both
engines store the same verifier and a re-run by either one changes nothing. Only the
verifier reaches the host, never the password.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable


def scram_verifier(password: str, salt_seed: str, iterations: int = 4096) -> str:
    salt = hmac.new(str(password).encode(), f"pesdc-salt:{salt_seed}".encode(),
                    hashlib.sha256).digest()[:16]
    salted = hashlib.pbkdf2_hmac("sha256", str(password).encode(), salt, iterations)
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored = hashlib.sha256(client_key).digest()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()

    def b64(b: bytes) -> str:
        return base64.b64encode(b).decode()

    return f"SCRAM-SHA-256${iterations}:{b64(salt)}${b64(stored)}:{b64(server_key)}"


class FilterModule:
    def filters(self) -> dict[str, Callable[..., str]]:
        return {"pesdc_scram_verifier": scram_verifier}

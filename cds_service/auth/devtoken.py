"""Development aid: a local ES384 key, its clients-file entry and short-lived tokens.

Never for production: the key sits unencrypted in the instance folder, and the issuer
``urn:crs-cds:dev`` is trusted automatically only by a service bound to a loopback address.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
import uuid
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

DEV_ISSUER = "urn:crs-cds:dev"
KEY_FILE = "dev-signing-key.pem"
CLIENTS_FILE = "dev-clients.json"


def thumbprint(jwk: dict[str, Any]) -> str:
    """Return the RFC 7638 SHA-256 thumbprint of an EC public JWK."""
    canonical = json.dumps({k: jwk[k] for k in ("crv", "kty", "x", "y")},
                           separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).decode().rstrip(
        "=")


def load_or_create_key(instance_dir: Path) -> ec.EllipticCurvePrivateKey:
    """Return the development key, creating it (mode 0600) on first use."""
    path = instance_dir / KEY_FILE
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{path} is not an EC private key")
        return key
    instance_dir.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP384R1())
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    return key


def public_jwk(key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    """Return the public JWK of the key, with kid (thumbprint), alg and use."""
    jwk: dict[str, Any] = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    jwk.update(kid=thumbprint(jwk), alg="ES384", use="sig")
    return jwk


def client_entry(key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    """Return the clients-file entry that trusts the development key."""
    return {"iss": DEV_ISSUER, "jwks": {"keys": [public_jwk(key)]},
            "note": "development only: written by `crs-cds dev-token`"}


def write_clients_file(instance_dir: Path, entry: dict[str, Any]) -> Path:
    """Write the development clients file holding just this entry."""
    path = instance_dir / CLIENTS_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"clients": [entry]}, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def mint(key: ec.EllipticCurvePrivateKey, audience: str, *, lifetime: int = 300,
         now: float | None = None) -> str:
    """Return a signed ES384 token shaped like the CDS Hooks sandbox's (cds-hooks.md §9)."""
    iat = int(time.time() if now is None else now)
    claims = {"iss": DEV_ISSUER, "aud": audience, "iat": iat, "exp": iat + lifetime,
              "jti": str(uuid.uuid4())}
    return jwt.encode(claims, key, algorithm="ES384",
                      headers={"kid": public_jwk(key)["kid"], "typ": "JWT"})

#!/usr/bin/env python3
"""Standalone verifier of an Ark ledger bundle (`ark ledger export ARK --out DIR`), independent
of Ark's C++ code: RFC 6962 Merkle root over entries.jsonl, C2SP signed checkpoint with Ed25519.

    python3 verify_bundle.py DIR [VKEY]      # VKEY: the published verifier key (default DIR/ledger.pub)

Needs the `cryptography` package (python3-cryptography on Debian). Exit 0 only if the bundle verifies.
Format: docs/ledger-format.md.
"""
import base64, hashlib, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


def root(leaves):
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = 1 << ((len(leaves) - 1).bit_length() - 1)
    return hashlib.sha256(b"\x01" + root(leaves[:k]) + root(leaves[k:])).digest()


def main():
    d = sys.argv[1]
    vkey = sys.argv[2] if len(sys.argv) > 2 else open(d + "/ledger.pub").read().strip()
    name, hint, key = vkey.split("+")
    key = base64.b64decode(key)
    assert key[0] == 1 and len(key) == 33, "not an Ed25519 verifier key"
    note = open(d + "/checkpoint", "rb").read().decode()
    body, sigs = note.split("\n\n", 1)
    body += "\n"
    ok = False
    for line in sigs.splitlines():
        dash, who, sig = line.split(" ")
        sig = base64.b64decode(sig)
        if dash != "\u2014" or who != name or sig[:4].hex() != hint:
            continue
        try:
            Ed25519PublicKey.from_public_bytes(key[1:]).verify(sig[4:], body.encode())
            ok = True
        except Exception:
            pass
    if not ok:
        sys.exit("FAIL: checkpoint signature does not verify")
    origin, size, rt = body.splitlines()[:3]
    size = int(size)
    lines = open(d + "/entries.jsonl", "rb").read().split(b"\n")
    assert lines[-1] == b"", "torn last entry"
    lines = lines[:-1]
    if len(lines) != size:
        sys.exit(f"FAIL: {len(lines)} entries, checkpoint says {size}")
    if root([hashlib.sha256(b"\x00" + l).digest() for l in lines]) != base64.b64decode(rt):
        sys.exit("FAIL: Merkle root does not match the signed checkpoint")
    print(f"bundle ok: {size} entries, {origin}")


if __name__ == "__main__":
    main()

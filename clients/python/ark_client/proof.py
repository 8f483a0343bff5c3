"""Checks an Ark ledger inclusion proof, taking nothing on trust (docs/ledger-format.md):

1. the checkpoint's Ed25519 signature (a C2SP signed note) with the verifier key the caller holds;
2. the entry's RFC 6962 leaf hash, SHA-256(0x00 || entry), computed here;
3. the RFC 9162 section 2.1.3.2 audit path from that leaf to the signed root.

The same checks as the web app's web/proof.js and `ark ledger verify-proof`.
"""

import base64
import hashlib
import re

from . import ed25519


class ProofError(Exception):
    """The proof does not verify; the message says which check refused it."""


def leaf_hash(entry: str) -> bytes:
    return hashlib.sha256(b"\x00" + entry.encode("utf-8")).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def read_verifier_key(vkey: str):
    """(name, 4-byte hint, 32-byte Ed25519 public key) of a signed-note verifier key
    "<name>+<8 hex digits>+<base64(0x01 || key)>"."""
    m = re.fullmatch(r"([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+=*)", vkey.strip())
    if not m:
        raise ProofError("the verifier key is not a vkey (name+hint+key)")
    raw = base64.b64decode(m.group(3))
    if len(raw) != 33 or raw[0] != 1:
        raise ProofError("the verifier key is not an Ed25519 key")
    name, hint, pub = m.group(1), bytes.fromhex(m.group(2)), raw[1:]
    if hashlib.sha256(name.encode() + b"\n" + b"\x01" + pub).digest()[:4] != hint:
        raise ProofError("the verifier key's hint does not match its public key")
    return name, hint, pub


def verify_checkpoint(note: str, vkey: str) -> dict:
    """The checkpoint's origin, size and root once its signature by `vkey` verifies."""
    name, hint, pub = read_verifier_key(vkey)
    split = note.find("\n\n")
    if split < 0:
        raise ProofError("the checkpoint has no signature block")
    body = note[: split + 1]
    lines = body.split("\n")
    if len(lines) < 4 or not lines[1].isdigit():
        raise ProofError("the checkpoint body is not origin, size and root")
    root = base64.b64decode(lines[2])
    if len(root) != 32:
        raise ProofError("the checkpoint root is not a SHA-256 hash")
    signed = False
    for line in note[split + 2 :].split("\n"):
        m = re.fullmatch(r"\u2014 (\S+) (\S+)", line)
        if not m or m.group(1) != name:
            continue
        sig = base64.b64decode(m.group(2))
        if len(sig) == 68 and sig[:4] == hint and ed25519.verify(pub, body.encode("utf-8"), sig[4:]):
            signed = True
    if not signed:
        raise ProofError("the checkpoint carries no valid signature by the key " + name)
    return {"origin": lines[0], "size": int(lines[1]), "root": root}


def root_from_path(index: int, size: int, leaf: bytes, path) -> bytes:
    """The root that `path` leads to from leaf `index` of a tree of `size` leaves (RFC 9162
    section 2.1.3.2), or None when the path has the wrong length."""
    if index >= size:
        return None
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn % 2 == 1 or fn == sn:
            r = _node(p, r)
            while fn % 2 == 0 and fn != 0:
                fn //= 2
                sn //= 2
        else:
            r = _node(r, p)
        fn //= 2
        sn //= 2
    return r if sn == 0 else None


def verify_proof(proof: dict, vkey: str, entry: str = None) -> dict:
    """Verifies `proof` (the body of GET /api/v1/ledger/proof/{seq}) against the verifier key
    `vkey`. `entry`: the entry text the caller holds (default: the one the server sent).
    Returns {"origin", "size", "index"}; raises ProofError saying why it does not verify."""
    try:
        cp = verify_checkpoint(proof["checkpoint"], vkey)
        if proof["treeSize"] != cp["size"]:
            raise ProofError(f"the proof is for {proof['treeSize']} entries, the signed checkpoint for {cp['size']}")
        index = proof["leafIdx"]
        leaf = leaf_hash(entry if entry is not None else proof["entry"])
        root = root_from_path(index, cp["size"], leaf, [base64.b64decode(p) for p in proof["proof"]])
    except (KeyError, TypeError, ValueError) as e:
        raise ProofError(f"the proof is malformed ({e})") from e
    if root is None:
        raise ProofError(f"the audit path has the wrong length for entry {index} of {cp['size']}")
    if root != cp["root"]:
        raise ProofError(f"the audit path does not lead to the signed root: this entry is not entry {index} of the signed ledger")
    return {"origin": cp["origin"], "size": cp["size"], "index": index}

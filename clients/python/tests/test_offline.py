"""The client's own checks, with no server: Ed25519 against RFC 8032's first test vector and
against signatures made by the `openssl` command (an independent implementation), and inclusion
proofs against audit paths built here by RFC 9162's recursive definition."""

import base64
import hashlib
import os
import subprocess
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from ark_client import ProofError, ed25519, verify_proof  # noqa: E402
from ark_client.proof import leaf_hash, root_from_path  # noqa: E402


def _openssl_signer(tmp):
    """(sign(message) -> 64 bytes, 32-byte public key) of a fresh key made by openssl."""
    key = os.path.join(tmp, "k.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", key], check=True, capture_output=True)
    der = subprocess.run(["openssl", "pkey", "-in", key, "-pubout", "-outform", "DER"], check=True, capture_output=True).stdout
    counter = [0]

    def sign(message):
        counter[0] += 1
        msg = os.path.join(tmp, f"m{counter[0]}")
        with open(msg, "wb") as f:
            f.write(message)
        return subprocess.run(["openssl", "pkeyutl", "-sign", "-rawin", "-inkey", key, "-in", msg],
                              check=True, capture_output=True).stdout

    return sign, der[-32:]


def _mth(leaves):
    """RFC 9162 section 2.1.1: the Merkle tree hash of a list of leaf hashes."""
    if len(leaves) == 1:
        return leaves[0]
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    return hashlib.sha256(b"\x01" + _mth(leaves[:k]) + _mth(leaves[k:])).digest()


def _path(m, leaves):
    """RFC 9162 section 2.1.3.1: PATH(m, D[n]), recursively."""
    if len(leaves) == 1:
        return []
    k = 1
    while k * 2 < len(leaves):
        k *= 2
    if m < k:
        return _path(m, leaves[:k]) + [_mth(leaves[k:])]
    return _path(m - k, leaves[k:]) + [_mth(leaves[:k])]


def _vkey(name, pub):
    hint = hashlib.sha256(name.encode() + b"\n\x01" + pub).digest()[:4]
    key = base64.b64encode(b"\x01" + pub).decode()
    return f"{name}+{hint.hex()}+{key}"


class Ed25519Test(unittest.TestCase):
    def test_rfc8032_test_1(self):
        pub = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        sig = bytes.fromhex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")
        self.assertTrue(ed25519.verify(pub, b"", sig))
        self.assertFalse(ed25519.verify(pub, b"\x00", sig))

    def test_agrees_with_openssl(self):
        with tempfile.TemporaryDirectory() as tmp:
            sign, pub = _openssl_signer(tmp)
            for n in (1, 33, 200):  # openssl 3.0 cannot sign an empty message; RFC 8032 test 1 is one
                msg = bytes(range(256))[:n]
                sig = sign(msg)
                self.assertTrue(ed25519.verify(pub, msg, sig), n)
                for at in (0, 31, 32, 63):
                    bad = bytearray(sig)
                    bad[at] ^= 0x10
                    self.assertFalse(ed25519.verify(pub, msg, bytes(bad)), (n, at))
                self.assertFalse(ed25519.verify(pub, msg + b"!", sig))

    def test_malformed_is_not_valid(self):
        self.assertFalse(ed25519.verify(b"\x00" * 31, b"", b"\x00" * 64))
        self.assertFalse(ed25519.verify(b"\xff" * 32, b"", b"\x00" * 64))
        self.assertFalse(ed25519.verify(b"\x00" * 32, b"", b"\x00" * 63))


class ProofTest(unittest.TestCase):
    def test_every_leaf_of_every_small_tree(self):
        for size in range(1, 34):
            leaves = [leaf_hash(f"entry {i}") for i in range(size)]
            root = _mth(leaves)
            for m in range(size):
                path = _path(m, leaves)
                self.assertEqual(root_from_path(m, size, leaves[m], path), root, (size, m))
                if size > 1:
                    self.assertNotEqual(root_from_path((m + 1) % size, size, leaves[m], path), root, (size, m))
                    self.assertIsNone(root_from_path(m, size, leaves[m], path + [root]), (size, m))

    def test_signed_checkpoint_and_proof(self):
        with tempfile.TemporaryDirectory() as tmp:
            sign, pub = _openssl_signer(tmp)
            entries = [f'{{"seq":{i},"type":"test"}}' for i in range(11)]
            leaves = [leaf_hash(e) for e in entries]
            body = f"ark.test/ledger\n11\n{base64.b64encode(_mth(leaves)).decode()}\n"
            sig = hashlib.sha256(b"ark.test\n\x01" + pub).digest()[:4] + sign(body.encode())
            note = body + "\n\u2014 ark.test " + base64.b64encode(sig).decode() + "\n"
            vkey = _vkey("ark.test", pub)
            proof = {"checkpoint": note, "treeSize": 11, "leafIdx": 6, "entry": entries[6],
                     "proof": [base64.b64encode(p).decode() for p in _path(6, leaves)]}
            self.assertEqual(verify_proof(proof, vkey)["size"], 11)
            with self.assertRaisesRegex(ProofError, "not entry 6"):
                verify_proof(proof, vkey, entry=entries[5])
            with self.assertRaisesRegex(ProofError, "no valid signature"):
                verify_proof(dict(proof, checkpoint=note.replace("\n11\n", "\n12\n")), vkey)
            _, other = _openssl_signer(tmp)
            with self.assertRaisesRegex(ProofError, "no valid signature"):
                verify_proof(proof, _vkey("ark.test", other))
            with self.assertRaisesRegex(ProofError, "hint"):
                name, _, key = vkey.split("+", 2)
                verify_proof(proof, f"{name}+00000000+{key}")
            with self.assertRaisesRegex(ProofError, "malformed"):
                verify_proof({"checkpoint": note}, vkey)


if __name__ == "__main__":
    unittest.main()

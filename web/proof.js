// Checks a ledger inclusion proof in the browser with WebCrypto, taking nothing on trust:
//  1. the checkpoint note's Ed25519 signature, with the verifier key the person supplies
//     (crypto.subtle.verify; Chromium needs a secure context: https or http://127.0.0.1);
//  2. the entry's RFC 6962 leaf hash, SHA-256(0x00 || entry), computed here from the entry text
//     (or the leaf hash the person pasted), never the server's;
//  3. the Merkle audit path from that leaf to the signed root (RFC 9162 §2.1.3.2, SHA-256
//     through crypto.subtle.digest).
// The checkpoint's format is read by readCheckpoint alone: adapt that one function if it changes.

const enc = new TextEncoder();

export function b64decode(s) {
  const bin = atob(s);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

export const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

async function sha256(...parts) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', concat(...parts)));
}

export const leafHash = (entryText) => sha256(Uint8Array.of(0), enc.encode(entryText));

class Refused extends Error {}

// Today's checkpoint: a C2SP signed note (tlog-checkpoint body: origin, size, base64 root) with
// "— <name> <base64(4-byte key hint || 64-byte Ed25519 signature)>" lines, and the verifier key as
// a signed-note vkey "<name>+<8 hex hint>+<base64(0x01 || 32-byte public key)>".
// Returns {origin, size, root, body (the signed bytes), signature, key: {name, hint, pub}}.
export function readCheckpoint(note, vkey) {
  const parts = /^([^+\s]+)\+([0-9a-f]{8})\+([A-Za-z0-9+/]+=*)$/.exec(vkey.trim());
  if (!parts) throw new Refused('the verifier key is not a vkey (name+hint+key)');
  const keyBytes = b64decode(parts[3]);
  if (keyBytes.length !== 33 || keyBytes[0] !== 1) throw new Refused('the verifier key is not an Ed25519 key');
  const key = { name: parts[1], hint: parts[2], pub: keyBytes.slice(1) };
  const split = note.indexOf('\n\n');
  if (split < 0) throw new Refused('the checkpoint has no signature block');
  const body = note.slice(0, split + 1);
  const lines = body.split('\n');
  if (lines.length < 4 || !/^\d+$/.test(lines[1])) throw new Refused('the checkpoint body is not origin, size and root');
  const root = b64decode(lines[2]);
  if (root.length !== 32) throw new Refused('the checkpoint root is not a SHA-256 hash');
  let signature = null;
  for (const line of note.slice(split + 2).split('\n')) {
    const m = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (!m || m[1] !== key.name) continue;
    const sig = b64decode(m[2]);
    if (sig.length === 68 && hex(sig.slice(0, 4)) === key.hint) signature = sig.slice(4);
  }
  if (!signature) throw new Refused('the checkpoint carries no signature by the key ' + key.name);
  return { origin: lines[0], size: Number(lines[1]), root, body: enc.encode(body), signature, key };
}

// RFC 9162 §2.1.3.2: the root that `path` leads to from leaf `index` of a tree of `size` leaves,
// or null when the path has the wrong length. (Arithmetic, not bit operators: sizes may pass 2^31.)
async function rootFromPath(index, size, leaf, path) {
  if (index >= size) return null;
  let fn = index, sn = size - 1, r = leaf;
  for (const p of path) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = await sha256(Uint8Array.of(1), p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      r = await sha256(Uint8Array.of(1), r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

// The leaf the person holds: the entry's text, or its leaf hash (64 hex digits or base64).
async function leafOf(held, served) {
  const t = (held || '').trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return Uint8Array.from(t.match(/../g), (h) => parseInt(h, 16));
  if (/^[A-Za-z0-9+/]{43}=$/.test(t)) return b64decode(t);
  return leafHash(t || served);
}

// Verifies `proof` (the body of GET /api/v1/ledger/proof/{seq}) against the verifier key `vkey`.
// `held`: what the person holds (entry text or leaf hash); empty = the entry the server sent.
// Returns {ok: true, size, origin} or {ok: false, why}.
export async function verifyProof(proof, vkey, held) {
  try {
    const cp = readCheckpoint(proof.checkpoint, vkey);
    const pub = await crypto.subtle.importKey('raw', cp.key.pub, { name: 'Ed25519' }, false, ['verify']);
    const hint = (await sha256(enc.encode(cp.key.name + '\n'), Uint8Array.of(1), cp.key.pub)).slice(0, 4);
    if (hex(hint) !== cp.key.hint) throw new Refused('the verifier key\'s hint does not match its public key');
    if (!(await crypto.subtle.verify({ name: 'Ed25519' }, pub, cp.signature, cp.body)))
      throw new Refused('the checkpoint\'s signature does not verify with the key ' + cp.key.name);
    if (proof.treeSize !== cp.size) throw new Refused('the proof is for ' + proof.treeSize + ' entries, the signed checkpoint for ' + cp.size);
    const leaf = await leafOf(held, proof.entry);
    const root = await rootFromPath(proof.leafIdx, cp.size, leaf, proof.proof.map(b64decode));
    if (!root) throw new Refused('the audit path has the wrong length for entry ' + proof.leafIdx + ' of ' + cp.size);
    if (!equal(root, cp.root)) throw new Refused('the audit path does not lead to the signed root: this entry is not entry ' + proof.leafIdx + ' of the signed ledger');
    return { ok: true, size: cp.size, origin: cp.origin };
  } catch (e) {
    if (e instanceof Refused) return { ok: false, why: e.message };
    return { ok: false, why: 'the proof is malformed (' + e.message + ')' };
  }
}

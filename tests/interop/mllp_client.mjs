// Interop check: the independent MLLP client @medplum/hl7 (Hl7Client.sendAndWait) against
// `ark serve`. Usage: node mllp_client.mjs HOST PORT SAMPLE.hl7
// Sends the sample (expects MSA-1 AA and MSA-2 = its MSH-10), then a copy with a bad PV1-44
// timestamp (expects AE and an ERR segment locating PV1^4^44). Prints a JSON line; exit 0 if both hold.
import { readFileSync } from 'node:fs';
import { Hl7Message } from '@medplum/core';
import { Hl7Client } from '@medplum/hl7';

const [host, port, sample] = process.argv.slice(2);
const text = readFileSync(sample, 'utf8').replace(/\r\n|\n/g, '\r').replace(/\r+$/, '');

async function send(client, raw) {
  const ack = await client.sendAndWait(Hl7Message.parse(raw), { timeoutMs: 10000 });
  const msa = ack.getSegment('MSA');
  const err = ack.getSegment('ERR');
  return { code: msa?.getField(1)?.toString() ?? '', control: msa?.getField(2)?.toString() ?? '', err: err ? err.toString() : '' };
}

const client = new Hl7Client({ host, port: Number(port) });
const out = { ok: false };
try {
  const good = await send(client, text.replace('MSG00001', `INTEROP${Date.now()}`));
  out.good = good;
  const bad = text.replace('MSG00001', `INTEROPBAD${Date.now()}`).replace(/20250101115500$/, '2025XX01115500');
  out.bad = await send(client, bad);
  out.ok = good.code === 'AA' && good.control.startsWith('INTEROP') && out.bad.code === 'AE' && out.bad.err.includes('PV1^4^44');
} catch (e) {
  out.error = String(e);
} finally {
  await client.close();
}
console.log(JSON.stringify(out));
process.exit(out.ok ? 0 : 1);

/**
 * Hand-built bytes for the tailnet tests, written from the wire facts and independent of the
 * code under test: yamux headers, dRPC frames and protobuf encodings of WorkspaceUpdate.
 */
export const RPC = '/coder.tailnet.v2.Tailnet/WorkspaceUpdates';
export const OWNER = '0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0';
export const OWNER_BYTES = Uint8Array.from([
  0x0f, 0x1e, 0x2d, 0x3c, 0x4b, 0x5a, 0x69, 0x78, 0x87, 0x96, 0xa5, 0xb4, 0xc3, 0xd2, 0xe1, 0xf0,
]);

export function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function toHex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

export function cat(...parts: (Uint8Array | number[])[]): Uint8Array {
  const arrays = parts.map((p) => (p instanceof Uint8Array ? p : Uint8Array.from(p)));
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

/** A 12-byte yamux header. */
export function yh(type: number, flags: number, stream: number, length: number): Uint8Array {
  const b = Buffer.alloc(12);
  b.writeUInt8(0, 0);
  b.writeUInt8(type, 1);
  b.writeUInt16BE(flags, 2);
  b.writeUInt32BE(stream, 4);
  b.writeUInt32BE(length >>> 0, 8);
  return new Uint8Array(b);
}

export const T = { data: 0, window: 1, ping: 2, goAway: 3 };
export const F = { syn: 1, ack: 2, fin: 4, rst: 8 };

export function yData(stream: number, payload: Uint8Array, flags = 0): Uint8Array {
  return cat(yh(T.data, flags, stream, payload.length), payload);
}

export function uvarint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

/** A dRPC frame. */
export function df(kind: number, done: boolean, stream: number, message: number, data: Uint8Array, control = false): Uint8Array {
  const c = (kind << 1) | (done ? 1 : 0) | (control ? 0x80 : 0);
  return cat([c, ...uvarint(stream), ...uvarint(message), ...uvarint(data.length)], data);
}

// ------------------------------------------------------------------ protobuf by hand

function field(no: number, bytes: Uint8Array): Uint8Array {
  return cat(uvarint((no << 3) | 2), uvarint(bytes.length), bytes);
}
function varintField(no: number, v: number): Uint8Array {
  return cat(uvarint(no << 3), uvarint(v));
}
const utf8 = (s: string) => new TextEncoder().encode(s);

export function uuid(n: number): { text: string; bytes: Uint8Array } {
  const bytes = new Uint8Array(16);
  new DataView(bytes.buffer).setUint32(12, n);
  bytes[0] = 0xab;
  const h = toHex(bytes);
  return { bytes, text: `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}` };
}

export interface PbWorkspace {
  id: Uint8Array;
  name: string;
  status: number;
}
export interface PbAgent {
  id: Uint8Array;
  name: string;
  workspaceId: Uint8Array;
}

export function pbWorkspace(w: PbWorkspace): Uint8Array {
  return cat(field(1, w.id), field(2, utf8(w.name)), w.status ? varintField(3, w.status) : []);
}
export function pbAgent(a: PbAgent): Uint8Array {
  return cat(field(1, a.id), field(2, utf8(a.name)), field(3, a.workspaceId));
}
export function pbUpdate(u: { up?: PbWorkspace[]; upAgents?: PbAgent[]; del?: PbWorkspace[]; delAgents?: PbAgent[] }): Uint8Array {
  return cat(
    ...(u.up ?? []).map((w) => field(1, pbWorkspace(w))),
    ...(u.upAgents ?? []).map((a) => field(2, pbAgent(a))),
    ...(u.del ?? []).map((w) => field(3, pbWorkspace(w))),
    ...(u.delAgents ?? []).map((a) => field(4, pbAgent(a))),
  );
}

/** What the client must send on its call stream, as observed from Coder's own client. */
export function observedCall(owner = OWNER_BYTES): Uint8Array {
  return cat(hex('03 01 01 2a'), utf8(RPC), hex('05 01 02 12 0a 10'), owner, hex('0d 01 03 00'));
}

/** A small deterministic PRNG (mulberry32), so fuzz failures reproduce from their seed. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

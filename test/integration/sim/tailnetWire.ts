/**
 * A raw tailnet client for the simulator's conformance tests: the client's bytes are built by hand
 * from the observed sequences in coder-api.md section 3.3, and the server's bytes are taken apart by
 * hand here (yamux headers, dRPC frames, protobuf fields), independently of the simulator's encoder.
 */
import WebSocket from 'ws';
import type { Simulator } from '../../sim';

export const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
export const RPC_NAME = '/coder.tailnet.v2.Tailnet/WorkspaceUpdates';

/** A yamux header: version 0, type, flags, stream id, length, big-endian. */
export function yamuxHeader(type: number, flags: number, stream: number, length: number): Buffer {
  const b = Buffer.alloc(12);
  b[1] = type;
  b.writeUInt16BE(flags, 2);
  b.writeUInt32BE(stream, 4);
  b.writeUInt32BE(length, 8);
  return b;
}

export const yamuxData = (stream: number, payload: Buffer, flags = 0) =>
  Buffer.concat([yamuxHeader(0, flags, stream, payload.length), payload]);
/** The window update with SYN and delta 0 that opens a stream, as hashicorp sends it. */
export const openStream = (stream: number) => yamuxHeader(1, 1, stream, 0);

/** The observed client side of the call: Invoke, Message (the request), CloseSend on dRPC stream 1. */
export function workspaceUpdatesCall(ownerId: string, rpc = RPC_NAME): Buffer {
  const owner = Buffer.from(ownerId.replace(/-/g, ''), 'hex');
  const invoke = Buffer.concat([Buffer.from([0x03, 0x01, 0x01, rpc.length]), Buffer.from(rpc, 'ascii')]);
  const request = Buffer.concat([hex('05 01 02 12 0a 10'), owner]);
  return Buffer.concat([invoke, request, hex('0d 01 03 00')]);
}

export interface YFrame {
  type: number;
  flags: number;
  stream: number;
  length: number;
  body: Buffer;
  /** Where the header and the body began: [message index, offset in that message]. */
  headerAt: [number, number];
  bodyAt?: [number, number];
}

export interface DPacket {
  kind: number;
  stream: number;
  message: number;
  data: Buffer;
}

function uvarint(b: Buffer, at: number): [number, number] {
  let n = 0;
  let mul = 1;
  for (let i = at; ; i++) {
    n += (b[i]! & 0x7f) * mul;
    mul *= 128;
    if (b[i]! < 0x80) return [n, i + 1];
  }
}

/** Protobuf fields of one message: field number, wire type, value (a varint or the bytes). */
export function pbFields(b: Buffer): Array<{ field: number; wire: number; value: number | Buffer }> {
  const out: Array<{ field: number; wire: number; value: number | Buffer }> = [];
  let at = 0;
  while (at < b.length) {
    const [tag, next] = uvarint(b, at);
    at = next;
    if ((tag & 7) === 0) {
      const [v, after] = uvarint(b, at);
      out.push({ field: tag >> 3, wire: 0, value: v });
      at = after;
    } else if ((tag & 7) === 2) {
      const [len, start] = uvarint(b, at);
      out.push({ field: tag >> 3, wire: 2, value: b.subarray(start, start + len) });
      at = start + len;
    } else throw new Error(`unexpected wire type ${tag & 7}`);
  }
  return out;
}

const uuid = (b: Buffer) => b.toString('hex').replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');
const STATUS = [
  'UNKNOWN',
  'PENDING',
  'STARTING',
  'RUNNING',
  'STOPPING',
  'STOPPED',
  'FAILED',
  'CANCELING',
  'CANCELED',
  'DELETING',
  'DELETED',
];

export interface Update {
  upsertedWorkspaces: Array<{ id: string; name: string; status: string }>;
  upsertedAgents: Array<{ id: string; name: string; workspaceId: string }>;
  deletedWorkspaces: Array<{ id: string; name: string; status: string }>;
  deletedAgents: Array<{ id: string; name: string; workspaceId: string }>;
}

/** `WorkspaceUpdate`, decoded field by field. */
export function decodeUpdate(b: Buffer): Update {
  const u: Update = { upsertedWorkspaces: [], upsertedAgents: [], deletedWorkspaces: [], deletedAgents: [] };
  for (const f of pbFields(b)) {
    const inner = pbFields(f.value as Buffer);
    const get = (n: number) => inner.find((x) => x.field === n)?.value;
    if (f.field === 1 || f.field === 3) {
      const w = {
        id: uuid(get(1) as Buffer),
        name: (get(2) as Buffer | undefined)?.toString() ?? '',
        status: STATUS[(get(3) as number) ?? 0]!,
      };
      (f.field === 1 ? u.upsertedWorkspaces : u.deletedWorkspaces).push(w);
    } else if (f.field === 2 || f.field === 4) {
      const a = { id: uuid(get(1) as Buffer), name: (get(2) as Buffer | undefined)?.toString() ?? '', workspaceId: uuid(get(3) as Buffer) };
      (f.field === 2 ? u.upsertedAgents : u.deletedAgents).push(a);
    }
  }
  return u;
}

/** Opens `/api/v2/tailnet` and takes the server's byte stream apart as it arrives. */
export function connectTailnet(
  sim: Simulator,
  query = '?version=2.3',
  headers: Record<string, string> = { 'Coder-Session-Token': sim.token },
) {
  const ws = new WebSocket(`${sim.url.replace('http', 'ws')}/api/v2/tailnet${query}`, { headers });
  const messages: Buffer[] = [];
  const frames: YFrame[] = [];
  const packets: DPacket[] = [];
  let pending = Buffer.alloc(0);
  // Where each message began in the byte stream, and the stream offset of pending[0].
  const starts: number[] = [];
  let offset = 0;
  const locate = (p: number): [number, number] => {
    let i = starts.length - 1;
    while (starts[i]! > p) i--;
    return [i, p - starts[i]!];
  };
  let partial: YFrame | undefined;
  let drpcBytes = Buffer.alloc(0);
  let drpcPartial: (DPacket & { chunks: Buffer[] }) | undefined;
  let wsPings = 0;
  const waiters = new Set<() => void>();
  const wake = () => waiters.forEach((w) => w());
  const c = {
    ws,
    messages,
    frames,
    packets,
    /** Send a window update for every data frame consumed on stream 1 (off: the client never reads). */
    autoWindow: true,
    get wsPings() {
      return wsPings;
    },
    opened: new Promise<void>((resolve) => ws.on('open', () => resolve())),
    closed: new Promise<number>((resolve) => ws.on('close', (code) => resolve(code))),
    refused: new Promise<{ status: number; body: any }>((resolve) =>
      ws.on('unexpected-response', (_req, res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        // A Coder error body as JSON; anything else (the WebSocket library's own refusals) as text.
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text.startsWith('{') ? JSON.parse(text) : text }));
      }),
    ),
    send(...parts: Buffer[]): void {
      for (const p of parts) ws.send(p);
    },
    /** Waits until `pred` holds, re-checked whenever something arrives. */
    async until<T>(pred: () => T | undefined | false, what: string, timeoutMs = 5000): Promise<T> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const v = pred();
        if (v) return v;
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise<void>((r) => {
          const done = () => {
            waiters.delete(done);
            clearTimeout(t);
            r();
          };
          const t = setTimeout(done, 100);
          waiters.add(done);
        });
      }
    },
    /** A yamux ping from the client and its answer: everything the server wrote before the answer has arrived. */
    async barrier(opaque: number): Promise<void> {
      const seen = frames.length;
      ws.send(yamuxHeader(2, 1, 0, opaque));
      await c.until(() => frames.slice(seen).some((f) => f.type === 2 && f.flags === 2 && f.length === opaque), `ping ${opaque} answered`);
    },
    /** The WorkspaceUpdate messages received on stream 1 so far. */
    updates(): Update[] {
      return packets.filter((p) => p.kind === 2).map((p) => decodeUpdate(p.data));
    },
  };
  ws.on('ping', () => {
    wsPings++;
    wake();
  });
  ws.on('error', () => {});
  ws.on('message', (d: Buffer) => {
    messages.push(d);
    starts.push(offset + pending.length);
    pending = Buffer.concat([pending, d]);
    for (;;) {
      if (!partial) {
        if (pending.length < 12) break;
        partial = {
          type: pending[1]!,
          flags: pending.readUInt16BE(2),
          stream: pending.readUInt32BE(4),
          length: pending.readUInt32BE(8),
          body: Buffer.alloc(0),
          headerAt: locate(offset),
        };
        if (pending[0] !== 0) partial.type = -1; // not a yamux header
        pending = pending.subarray(12);
        offset += 12;
        if (partial.type !== 0 || partial.length === 0) {
          frames.push(partial);
          partial = undefined;
          continue;
        }
      }
      if (pending.length < partial.length) break;
      partial.bodyAt = locate(offset);
      partial.body = pending.subarray(0, partial.length);
      pending = pending.subarray(partial.length);
      offset += partial.length;
      frames.push(partial);
      if (partial.stream === 1) {
        drpcBytes = Buffer.concat([drpcBytes, partial.body]);
        if (c.autoWindow) ws.send(yamuxHeader(1, 0, 1, partial.length));
      }
      partial = undefined;
    }
    // dRPC frames on stream 1: control byte, stream id, message id, length, data.
    for (;;) {
      if (drpcBytes.length < 4) break;
      const [stream, a] = uvarint(drpcBytes, 1);
      const [message, b] = uvarint(drpcBytes, a);
      const [len, start] = uvarint(drpcBytes, b);
      if (drpcBytes.length < start + len) break;
      const kind = drpcBytes[0]! >> 1;
      const done = (drpcBytes[0]! & 1) === 1;
      drpcPartial ??= { kind, stream, message, data: Buffer.alloc(0), chunks: [] };
      drpcPartial.chunks.push(drpcBytes.subarray(start, start + len));
      drpcBytes = drpcBytes.subarray(start + len);
      if (done) {
        packets.push({ kind, stream, message, data: Buffer.concat(drpcPartial.chunks) });
        drpcPartial = undefined;
      }
    }
    wake();
  });
  return c;
}

export type TailnetClient = ReturnType<typeof connectTailnet>;

/**
 * dRPC wire framing (storj.io/drpc `drpcwire`) for the server side: frames are a control byte
 * (`kind << 1 | done`, bit 7 = control), uvarint stream id, uvarint message id, uvarint length, data.
 * Packets are reassembled from frames with the reader's rules: ids never go backwards, the kind does not
 * change inside a packet, control frames are skipped, a packet is capped at 4 MiB.
 */
import { uvarint } from './proto';

export const KIND = { invoke: 1, message: 2, error: 3, close: 5, closeSend: 6, invokeMetadata: 7 } as const;
export const MAX_PACKET = 4 << 20;
/** drpcwire.SplitN's default: a packet goes out in frames of at most 64 KiB of data. */
export const SPLIT_SIZE = 64 * 1024;

export interface Packet {
  kind: number;
  stream: number;
  message: number;
  data: Buffer;
}

export class DrpcProtocolError extends Error {}

export function encodeFrame(kind: number, done: boolean, stream: number, message: number, data: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from([(kind << 1) | (done ? 1 : 0), ...uvarint(stream), ...uvarint(message), ...uvarint(data.length)]),
    data,
  ]);
}

/** One packet as the frames it is written in (each frame one write, as drpc's buffered writer flushes them). */
export function encodePacket(kind: number, stream: number, message: number, data: Buffer): Buffer[] {
  const frames: Buffer[] = [];
  let rest = data;
  do {
    const chunk = rest.subarray(0, SPLIT_SIZE);
    rest = rest.subarray(chunk.length);
    frames.push(encodeFrame(kind, rest.length === 0, stream, message, chunk));
  } while (rest.length > 0);
  return frames;
}

/** The 8-byte big-endian code, then the text. */
export function errorData(code: number, text: string): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(code));
  return Buffer.concat([b, Buffer.from(text, 'utf8')]);
}

/** Reads a uvarint at `at`; undefined when the bytes end first. */
function readUvarint(b: Buffer, at: number): [number, number] | undefined {
  let n = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (at + i >= b.length) return undefined;
    const byte = b[at + i]!;
    n += (byte & 0x7f) * mul;
    mul *= 0x80;
    if (byte < 0x80) {
      if (n > Number.MAX_SAFE_INTEGER) throw new DrpcProtocolError('varint too large');
      return [n, at + i + 1];
    }
  }
  throw new DrpcProtocolError('varint overflow');
}

/** Turns the bytes of one transport into packets. */
export class PacketReader {
  private buf: Buffer = Buffer.alloc(0);
  private id = { stream: 1, message: 1 };
  private pkt: Packet | undefined;

  /** Every packet completed by these bytes; throws DrpcProtocolError on a violation. */
  push(chunk: Buffer): Packet[] {
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    const out: Packet[] = [];
    for (;;) {
      const fr = this.parse();
      if (!fr) break;
      if (fr.control) continue;
      const less = fr.stream < this.id.stream || (fr.stream === this.id.stream && fr.message < this.id.message);
      if (less) throw new DrpcProtocolError('id monotonicity violation');
      if (!this.pkt || fr.stream !== this.id.stream || fr.message !== this.id.message) {
        this.id = { stream: fr.stream, message: fr.message };
        this.pkt = { kind: fr.kind, stream: fr.stream, message: fr.message, data: Buffer.alloc(0) };
      } else if (fr.kind !== this.pkt.kind) throw new DrpcProtocolError('packet kind change');
      this.pkt.data = Buffer.concat([this.pkt.data, fr.data]);
      if (this.pkt.data.length > MAX_PACKET) throw new DrpcProtocolError('data overflow');
      if (fr.done) {
        out.push(this.pkt);
        this.pkt = undefined;
        this.id.message++;
      }
    }
    if (this.buf.length > MAX_PACKET + 28) throw new DrpcProtocolError('data overflow');
    return out;
  }

  private parse(): { kind: number; done: boolean; control: boolean; stream: number; message: number; data: Buffer } | undefined {
    const b = this.buf;
    if (b.length === 0) return undefined;
    const control = b[0]!;
    const s = readUvarint(b, 1);
    const m = s && readUvarint(b, s[1]);
    const l = m && readUvarint(b, m[1]);
    if (!s || !m || !l) return undefined;
    if (l[0] > MAX_PACKET) throw new DrpcProtocolError('data overflow');
    if (b.length < l[1] + l[0]) return undefined;
    const data = b.subarray(l[1], l[1] + l[0]);
    this.buf = b.subarray(l[1] + l[0]);
    return { kind: (control >> 1) & 0x3f, done: (control & 1) === 1, control: (control & 0x80) !== 0, stream: s[0], message: m[0], data };
  }
}

/**
 * The dRPC wire format (storj.io/drpc, drpcwire) for one client call on one yamux stream.
 * A frame is a control byte (`kind << 1 | done`, bit 7 set = a control frame, which a reader
 * skips), then uvarint stream id, uvarint message id, uvarint length and the data. A packet is
 * the data of consecutive frames with the same ids, ended by the frame with `done`. As in
 * drpcwire's reader, ids only go up: a frame with a lower id is a protocol error, a higher one
 * starts a new packet (the unfinished one is dropped), and a finished packet's id is used up.
 */
import { ByteQueue } from './bytes';
import { TailnetProtocolError } from './protocolError';

export const DrpcKind = { invoke: 1, message: 2, error: 3, close: 5, closeSend: 6, invokeMetadata: 7 } as const;

/** Coder's cap on one message (drpc's default buffer size too). */
export const MAX_MESSAGE_BYTES = 4 << 20;

export interface DrpcFrame {
  kind: number;
  done: boolean;
  control: boolean;
  streamId: number;
  messageId: number;
  data: Uint8Array;
}

export interface DrpcPacket {
  kind: number;
  streamId: number;
  messageId: number;
  data: Uint8Array;
}

export function encodeUvarint(value: number): number[] {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`not a uvarint: ${value}`);
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
  return out;
}

export function encodeFrame(f: { kind: number; done: boolean; streamId: number; messageId: number; data: Uint8Array }): Uint8Array {
  const head = [
    ((f.kind & 0x3f) << 1) | (f.done ? 1 : 0),
    ...encodeUvarint(f.streamId),
    ...encodeUvarint(f.messageId),
    ...encodeUvarint(f.data.length),
  ];
  const out = new Uint8Array(head.length + f.data.length);
  out.set(head);
  out.set(f.data, head.length);
  return out;
}

/** What a client sends to start a server-streaming call: Invoke, Message, CloseSend (message ids 1, 2, 3). */
export function encodeStreamingCall(rpc: string, request: Uint8Array, streamId = 1): Uint8Array {
  const frames = [
    encodeFrame({ kind: DrpcKind.invoke, done: true, streamId, messageId: 1, data: new TextEncoder().encode(rpc) }),
    encodeFrame({ kind: DrpcKind.message, done: true, streamId, messageId: 2, data: request }),
    encodeFrame({ kind: DrpcKind.closeSend, done: true, streamId, messageId: 3, data: new Uint8Array(0) }),
  ];
  const out = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const f of frames) {
    out.set(f, at);
    at += f.length;
  }
  return out;
}

/** An Error packet's data: 8-byte big-endian code, then the text. */
export function decodeErrorPacket(data: Uint8Array): { code: bigint; message: string } {
  if (data.length < 8) return { code: 0n, message: new TextDecoder().decode(data) };
  const code = new DataView(data.buffer, data.byteOffset, 8).getBigUint64(0);
  return { code, message: new TextDecoder().decode(data.subarray(8)) };
}

type Varint = { value: number; bytes: number } | 'short';

function readUvarint(q: ByteQueue, at: number): Varint {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    const b = q.at(at + i);
    if (b === undefined) return 'short';
    value += (b & 0x7f) * scale;
    if ((b & 0x80) === 0) {
      if (!Number.isSafeInteger(value)) throw new TailnetProtocolError('drpc', 'varint too large');
      return { value, bytes: i + 1 };
    }
    scale *= 0x80;
  }
  throw new TailnetProtocolError('drpc', 'varint longer than 10 bytes');
}

/**
 * Turns the bytes of one stream into packets. Throws TailnetProtocolError on a malformed frame,
 * an id going backwards, a kind changing inside a packet, or a message over the cap; after a
 * throw the reader must not be used again.
 */
export class DrpcReader {
  private readonly inbox = new ByteQueue();
  private streamId = 1;
  private messageId = 1;
  private current: { kind: number; parts: Uint8Array[]; bytes: number } | undefined;

  constructor(private readonly maxMessageBytes = MAX_MESSAGE_BYTES) {}

  /** Input not yet parsed plus the unfinished packet. */
  get bufferedBytes(): number {
    return this.inbox.length + (this.current?.bytes ?? 0);
  }

  push(chunk: Uint8Array): DrpcPacket[] {
    this.inbox.push(chunk);
    const out: DrpcPacket[] = [];
    for (let f = this.nextFrame(); f; f = this.nextFrame()) {
      const p = this.assemble(f);
      if (p) out.push(p);
    }
    return out;
  }

  private nextFrame(): DrpcFrame | undefined {
    const control = this.inbox.at(0);
    if (control === undefined) return undefined;
    const stream = readUvarint(this.inbox, 1);
    if (stream === 'short') return undefined;
    const message = readUvarint(this.inbox, 1 + stream.bytes);
    if (message === 'short') return undefined;
    const length = readUvarint(this.inbox, 1 + stream.bytes + message.bytes);
    if (length === 'short') return undefined;
    if (length.value > this.maxMessageBytes) {
      throw new TailnetProtocolError('drpc', `frame of ${length.value} bytes is over the ${this.maxMessageBytes}-byte cap`);
    }
    const head = 1 + stream.bytes + message.bytes + length.bytes;
    if (this.inbox.length < head + length.value) return undefined;
    this.inbox.skip(head);
    const data = this.inbox.take(length.value);
    return {
      kind: (control & 0x7e) >> 1,
      done: (control & 1) === 1,
      control: (control & 0x80) !== 0,
      streamId: stream.value,
      messageId: message.value,
      data,
    };
  }

  private assemble(f: DrpcFrame): DrpcPacket | undefined {
    if (f.control) return undefined; // reserved for future use: ignored, as drpcwire does
    const less = f.streamId < this.streamId || (f.streamId === this.streamId && f.messageId < this.messageId);
    if (less) {
      throw new TailnetProtocolError('drpc', `id <${f.streamId},${f.messageId}> after <${this.streamId},${this.messageId}>`);
    }
    if (f.streamId !== this.streamId || f.messageId !== this.messageId || !this.current) {
      this.streamId = f.streamId;
      this.messageId = f.messageId;
      this.current = { kind: f.kind, parts: [], bytes: 0 };
    } else if (f.kind !== this.current.kind) {
      throw new TailnetProtocolError('drpc', `packet kind changed from ${this.current.kind} to ${f.kind}`);
    }
    const cur = this.current;
    cur.parts.push(f.data);
    cur.bytes += f.data.length;
    if (cur.bytes > this.maxMessageBytes) throw new TailnetProtocolError('drpc', `message over the ${this.maxMessageBytes}-byte cap`);
    if (!f.done) return undefined;
    this.current = undefined;
    const id = this.messageId;
    this.messageId++; // a finished packet's id is used up
    return { kind: cur.kind, streamId: this.streamId, messageId: id, data: concat(cur.parts, cur.bytes) };
  }
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

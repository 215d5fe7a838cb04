/**
 * The server half of a yamux session (hashicorp/yamux v0.1.2 semantics) over a byte stream: the
 * client opens odd streams with SYN and gets an ACK, each direction starts with a 256 KiB window and
 * the receiver sends window updates once half of it is consumed, the sender never exceeds the peer's
 * window, pings are answered, and the server pings on its own (opaque 0, 1, 2, ...) and drops a
 * session that does not answer in time. Each frame's header and body go out as two writes.
 */
import type { SimClock } from '../clock';

export const TYPE = { data: 0, windowUpdate: 1, ping: 2, goAway: 3 } as const;
export const FLAG = { syn: 1, ack: 2, fin: 4, rst: 8 } as const;
export const GO_AWAY = { normal: 0, protocolError: 1, internalError: 2 } as const;
export const INITIAL_WINDOW = 256 * 1024;
const HEADER = 12;

export function header(type: number, flags: number, stream: number, length: number): Buffer {
  const h = Buffer.alloc(HEADER);
  h[1] = type;
  h.writeUInt16BE(flags, 2);
  h.writeUInt32BE(stream >>> 0, 4);
  h.writeUInt32BE(length >>> 0, 8);
  return h;
}

export interface SessionIo {
  /** One write on the connection (one WebSocket message). */
  write(b: Buffer): void;
  /** The connection goes away with no goodbye (the peer sees 1006). */
  destroy(): void;
  /** An orderly close after what was written. */
  end(): void;
}

export interface SessionOptions {
  clock: SimClock;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  onStream(s: YamuxStream): void;
}

export class YamuxStream {
  sendWindow = INITIAL_WINDOW;
  private recvWindow = INITIAL_WINDOW;
  private consumed = 0;
  private readonly pending: Buffer[] = [];
  private localClosed = false;
  private finAfterFlush = false;
  remoteClosed = false;
  onData: (b: Buffer) => void = () => {};
  onEnd: () => void = () => {};

  constructor(
    readonly id: number,
    private readonly session: YamuxSession,
  ) {}

  /** Queued and sent as the peer's window allows. */
  write(b: Buffer): void {
    if (this.localClosed || this.finAfterFlush || b.length === 0) return;
    this.pending.push(b);
    this.flush();
  }

  /** FIN once what is queued has gone out. */
  close(): void {
    if (this.localClosed) return;
    this.finAfterFlush = true;
    this.flush();
  }

  reset(): void {
    if (this.localClosed && this.remoteClosed) return;
    this.localClosed = this.remoteClosed = true;
    this.session.send(header(TYPE.windowUpdate, FLAG.rst, this.id, 0));
    this.session.forget(this.id);
  }

  get queued(): number {
    return this.pending.reduce((n, b) => n + b.length, 0);
  }

  flush(): void {
    while (this.pending.length > 0 && this.sendWindow > 0 && !this.session.closed) {
      const first = this.pending[0]!;
      const n = Math.min(first.length, this.sendWindow);
      this.session.send(header(TYPE.data, 0, this.id, n), first.subarray(0, n));
      this.sendWindow -= n;
      if (n === first.length) this.pending.shift();
      else this.pending[0] = first.subarray(n);
    }
    if (this.finAfterFlush && this.pending.length === 0 && !this.localClosed) {
      this.localClosed = true;
      this.session.send(header(TYPE.windowUpdate, FLAG.fin, this.id, 0));
      if (this.remoteClosed) this.session.forget(this.id);
    }
  }

  /** A data frame of n bytes stays within the window this side announced. */
  fits(n: number): boolean {
    return n <= this.recvWindow;
  }

  received(b: Buffer): void {
    this.recvWindow -= b.length;
    if (!this.remoteClosed && b.length > 0) this.onData(b);
    // The data is consumed at once; hashicorp announces it once half the window is used.
    this.consumed += b.length;
    if (this.consumed >= INITIAL_WINDOW / 2 && !this.remoteClosed) {
      this.session.send(header(TYPE.windowUpdate, 0, this.id, this.consumed));
      this.recvWindow += this.consumed;
      this.consumed = 0;
    }
  }

  flags(flags: number): void {
    if (flags & FLAG.rst) {
      this.localClosed = this.remoteClosed = true;
      this.pending.length = 0;
      this.session.forget(this.id);
      this.onEnd();
      return;
    }
    if (flags & FLAG.fin && !this.remoteClosed) {
      this.remoteClosed = true;
      if (this.localClosed) this.session.forget(this.id);
      this.onEnd();
    }
  }
}

export class YamuxSession {
  private buf: Buffer = Buffer.alloc(0);
  /** Bytes of a data frame for a stream that does not exist, still to be skipped. */
  private drain = 0;
  private frame: { type: number; flags: number; stream: number; length: number } | undefined;
  private readonly streams = new Map<number, YamuxStream>();
  private localGoAway = false;
  remoteGoAway = false;
  closed = false;
  /** Half-open: nothing goes out any more, pings included, and nothing is dropped for silence. */
  muted = false;
  private nextPing = 0;
  private awaitedPing: number | undefined;
  private cancelTimer: () => void = () => {};

  constructor(
    private readonly io: SessionIo,
    private readonly opts: SessionOptions,
  ) {
    this.schedulePing();
  }

  get streamCount(): number {
    return this.streams.size;
  }

  send(h: Buffer, body?: Buffer): void {
    if (this.closed || this.muted) return;
    this.io.write(h);
    if (body && body.length > 0) this.io.write(body);
  }

  /** Raw bytes on the connection, for the faults that break the framing on purpose. */
  sendRaw(b: Buffer): void {
    if (!this.closed && !this.muted) this.io.write(b);
  }

  forget(id: number): void {
    this.streams.delete(id);
  }

  mute(): void {
    this.muted = true;
    this.cancelTimer();
  }

  goAway(reason: number): void {
    this.localGoAway = true;
    this.send(header(TYPE.goAway, 0, 0, reason));
  }

  /**
   * The session ends: an orderly close, a drop the peer sees as an abnormal closure, or `gone` when
   * the connection is already closed.
   */
  close(how: 'end' | 'destroy' | 'gone'): void {
    if (this.closed) return;
    this.closed = true;
    this.cancelTimer();
    const streams = [...this.streams.values()];
    this.streams.clear();
    for (const s of streams) s.onEnd();
    if (how === 'end') this.io.end();
    else if (how === 'destroy') this.io.destroy();
  }

  private protocolError(): void {
    this.goAway(GO_AWAY.protocolError);
    this.close('end');
  }

  private schedulePing(): void {
    this.cancelTimer();
    if (this.closed || this.muted) return;
    this.cancelTimer = this.opts.clock.setTimer(() => {
      const id = this.nextPing++;
      this.awaitedPing = id;
      this.send(header(TYPE.ping, FLAG.syn, 0, id));
      // hashicorp's keepalive: no answer within the write timeout ends the session.
      this.cancelTimer = this.opts.clock.setTimer(() => this.close('destroy'), this.opts.pingTimeoutMs);
    }, this.opts.pingIntervalMs);
  }

  /** Bytes from the connection, in any split. */
  receive(chunk: Buffer): void {
    if (this.closed) return;
    this.buf = this.buf.length ? Buffer.concat([this.buf, chunk]) : chunk;
    while (!this.closed) {
      if (this.drain > 0) {
        const n = Math.min(this.drain, this.buf.length);
        this.drain -= n;
        this.buf = this.buf.subarray(n);
        if (this.drain > 0) return;
      }
      if (!this.frame) {
        if (this.buf.length < HEADER) return;
        const b = this.buf;
        if (b[0] !== 0 || b[1]! > TYPE.goAway) return this.close('end');
        const f = { type: b[1]!, flags: b.readUInt16BE(2), stream: b.readUInt32BE(4), length: b.readUInt32BE(8) };
        this.buf = b.subarray(HEADER);
        if (f.type === TYPE.data || f.type === TYPE.windowUpdate) {
          if (!this.open(f)) continue;
          if (f.type === TYPE.data && !this.streams.get(f.stream)!.fits(f.length)) return this.protocolError();
        }
        if (f.type !== TYPE.data) {
          this.control(f);
          continue;
        }
        this.frame = f;
      }
      const f = this.frame;
      if (this.buf.length < f.length) return;
      const body = this.buf.subarray(0, f.length);
      this.buf = this.buf.subarray(f.length);
      this.frame = undefined;
      const s = this.streams.get(f.stream);
      if (!s) continue;
      s.received(body);
      s.flags(f.flags);
    }
  }

  private control(f: { type: number; flags: number; stream: number; length: number }): void {
    if (f.type === TYPE.windowUpdate) {
      const s = this.streams.get(f.stream)!;
      s.sendWindow += f.length;
      s.flags(f.flags);
      s.flush();
    } else if (f.type === TYPE.ping) {
      if (f.flags & FLAG.syn) this.send(header(TYPE.ping, FLAG.ack, 0, f.length));
      else if (f.flags & FLAG.ack && f.length === this.awaitedPing) {
        this.awaitedPing = undefined;
        this.schedulePing();
      }
    } else if (f.length !== GO_AWAY.normal) this.close('end');
    else this.remoteGoAway = true;
  }

  /**
   * SYN opens a stream (ACKed by a window update carrying ACK); a frame for a stream that does not
   * exist is skipped (its data drained). False when the frame is to be skipped.
   */
  private open(f: { type: number; flags: number; stream: number; length: number }): boolean {
    if (f.flags & FLAG.syn) {
      if (this.localGoAway) {
        this.send(header(TYPE.windowUpdate, FLAG.rst, f.stream, 0));
      } else if (this.streams.has(f.stream)) {
        this.protocolError();
        return false;
      } else {
        const s = new YamuxStream(f.stream, this);
        this.streams.set(f.stream, s);
        this.send(header(TYPE.windowUpdate, FLAG.ack, f.stream, 0));
        this.opts.onStream(s);
      }
    }
    if (this.streams.has(f.stream)) return true;
    if (f.type === TYPE.data) this.drain = f.length;
    return false;
  }
}

/**
 * The client half of a yamux session (hashicorp/yamux spec.md) over a byte stream that arrives
 * in pieces of any size. Only what a client of Coder's tailnet needs: it opens streams (odd ids
 * from 1), never accepts one (the server's attempts are reset), answers pings, honours go away,
 * keeps the flow-control windows both ways, and notices a half-open connection by itself.
 *
 * Rules that end the session (the owner then replaces it): a header with an unknown version or
 * type, data beyond the receive window, a second SYN for an open stream, a go away with an error
 * code, a ping of ours unanswered in time, or silence for too long. Everything is synchronous:
 * received bytes are handed to the stream's handler as they arrive, so the receive window is
 * refilled as soon as half of it has been delivered, as hashicorp's reader does.
 */
import type { Clock, TimerHandle } from '../../common/clock';
import { ByteQueue } from './bytes';
import { TailnetProtocolError } from './protocolError';
import {
  Flag,
  FrameType,
  GoAwayCode,
  HEADER_BYTES,
  INITIAL_WINDOW,
  YAMUX_VERSION,
  decodeHeader,
  encodeData,
  encodeHeader,
  type YamuxHeader,
} from './yamuxFrame';

export interface YamuxStreamHandlers {
  onData(bytes: Uint8Array): void;
  /** The peer half-closed (FIN) or reset (RST) the stream. */
  onEnd(how: 'fin' | 'rst'): void;
}

export interface YamuxSessionOptions {
  clock: Clock;
  /** Sends bytes to the peer (the WebSocket). */
  write(bytes: Uint8Array): void;
  /** Called once when the session ends: an error, or undefined after close(). */
  onClose(error: TailnetProtocolError | undefined): void;
  /** Our own ping every this many ms. Default 15 s; 0 disables keep-alive checks. */
  keepAliveMs?: number;
  /** A ping of ours unanswered this long ends the session. Default 10 s. */
  pingTimeoutMs?: number;
  /** Nothing at all received this long ends the session. Default 45 s. */
  idleTimeoutMs?: number;
}

interface StreamSlot {
  readonly id: number;
  readonly h: YamuxStreamHandlers;
  recvWindow: number;
  sendWindow: number;
  pending: Uint8Array[];
  pendingBytes: number;
  finQueued: boolean;
  localClosed: boolean;
  remoteClosed: boolean;
}

/** One stream of the session, as its opener sees it. */
export interface YamuxStream {
  readonly id: number;
  /** Queues bytes; they leave as the peer's window allows. */
  write(bytes: Uint8Array): void;
  /** Half-closes our side (FIN) once everything queued has left. */
  closeWrite(): void;
  /** Abandons the stream (RST). */
  reset(): void;
}

export class YamuxSession {
  private readonly inbox = new ByteQueue();
  private header: YamuxHeader | undefined;
  private readonly streams = new Map<number, StreamSlot>();
  private nextId = 1;
  private remoteGoAway = false;
  private closed = false;
  private pingSeq = 0;
  private pingWait: { opaque: number; timer: TimerHandle } | undefined;
  private pingTimer: TimerHandle | undefined;
  private idleTimer: TimerHandle | undefined;
  private lastReceived: number;

  constructor(private readonly o: YamuxSessionOptions) {
    this.lastReceived = o.clock.now();
    if ((o.keepAliveMs ?? 15_000) > 0) {
      this.armPing();
      this.armIdle(o.idleTimeoutMs ?? 45_000);
    }
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The peer sent a go away: no new stream may be opened. */
  get goneAway(): boolean {
    return this.remoteGoAway;
  }

  /** Bytes held in memory: unparsed input and output waiting for window. */
  get bufferedBytes(): number {
    let n = this.inbox.length;
    for (const s of this.streams.values()) n += s.pendingBytes;
    return n;
  }

  /** Bytes from the peer, in any split. */
  receive(chunk: Uint8Array): void {
    if (this.closed) return;
    this.lastReceived = this.o.clock.now();
    this.inbox.push(chunk);
    try {
      this.drain();
    } catch (e) {
      this.fail(e instanceof TailnetProtocolError ? e : new TailnetProtocolError('yamux', e instanceof Error ? e.message : String(e)));
    }
  }

  /** Something below yamux (a WebSocket ping) proved the peer alive. */
  noteAlive(): void {
    this.lastReceived = this.o.clock.now();
  }

  openStream(h: YamuxStreamHandlers): YamuxStream {
    if (this.closed) throw new TailnetProtocolError('yamux', 'session is closed');
    if (this.remoteGoAway) throw new TailnetProtocolError('yamux', 'peer sent go away: no new streams');
    const id = this.nextId;
    this.nextId += 2;
    const slot: StreamSlot = {
      id,
      h,
      recvWindow: INITIAL_WINDOW,
      sendWindow: INITIAL_WINDOW,
      pending: [],
      pendingBytes: 0,
      finQueued: false,
      localClosed: false,
      remoteClosed: false,
    };
    this.streams.set(id, slot);
    // As hashicorp does: the SYN rides on a window update with a zero delta.
    this.send(encodeHeader({ type: FrameType.windowUpdate, flags: Flag.syn, streamId: id, length: 0 }));
    return {
      id,
      write: (bytes) => {
        if (slot.localClosed || slot.finQueued || !this.streams.has(id)) throw new TailnetProtocolError('yamux', `stream ${id} is closed`);
        if (bytes.length === 0) return;
        slot.pending.push(bytes);
        slot.pendingBytes += bytes.length;
        this.flush(slot);
      },
      closeWrite: () => {
        if (slot.localClosed || slot.finQueued || !this.streams.has(id)) return;
        slot.finQueued = true;
        this.flush(slot);
      },
      reset: () => {
        if (!this.streams.delete(id)) return;
        this.send(encodeHeader({ type: FrameType.windowUpdate, flags: Flag.rst, streamId: id, length: 0 }));
      },
    };
  }

  /** Ends the session normally: go away, timers off. */
  close(): void {
    if (this.closed) return;
    this.send(encodeHeader({ type: FrameType.goAway, flags: 0, streamId: 0, length: GoAwayCode.normal }));
    this.shutdown();
    this.o.onClose(undefined);
  }

  private fail(error: TailnetProtocolError): void {
    if (this.closed) return;
    if (error.layer === 'yamux') {
      this.send(encodeHeader({ type: FrameType.goAway, flags: 0, streamId: 0, length: GoAwayCode.protocolError }));
    }
    this.shutdown();
    this.o.onClose(error);
  }

  private shutdown(): void {
    this.closed = true;
    this.pingTimer?.cancel();
    this.idleTimer?.cancel();
    this.pingWait?.timer.cancel();
    this.pingWait = undefined;
    this.streams.clear();
    this.inbox.clear();
    this.header = undefined;
  }

  private send(bytes: Uint8Array): void {
    try {
      this.o.write(bytes);
    } catch {
      // The transport is going away; its close reaches the owner on its own.
    }
  }

  private drain(): void {
    while (!this.closed) {
      if (!this.header) {
        if (this.inbox.length < HEADER_BYTES) return;
        const h = decodeHeader(this.inbox.take(HEADER_BYTES));
        if (h.version !== YAMUX_VERSION) throw new TailnetProtocolError('yamux', `unknown version ${h.version}`);
        if (h.type > FrameType.goAway) throw new TailnetProtocolError('yamux', `unknown frame type ${h.type}`);
        // No window is ever larger: refusing here keeps the buffer bounded.
        if (h.type === FrameType.data && h.length > INITIAL_WINDOW) {
          throw new TailnetProtocolError('yamux', `data frame of ${h.length} bytes exceeds the receive window`);
        }
        this.header = h;
      }
      const h = this.header;
      const bodyBytes = h.type === FrameType.data ? h.length : 0;
      if (this.inbox.length < bodyBytes) return;
      const body = bodyBytes > 0 ? this.inbox.take(bodyBytes) : EMPTY;
      this.header = undefined;
      this.handle(h, body);
    }
  }

  private handle(h: YamuxHeader, body: Uint8Array): void {
    switch (h.type) {
      case FrameType.ping:
        if (h.flags & Flag.syn) this.send(encodeHeader({ type: FrameType.ping, flags: Flag.ack, streamId: 0, length: h.length }));
        else if (h.flags & Flag.ack && this.pingWait?.opaque === h.length) {
          this.pingWait.timer.cancel();
          this.pingWait = undefined;
        }
        return;
      case FrameType.goAway:
        this.remoteGoAway = true;
        if (h.length !== GoAwayCode.normal) {
          const what =
            h.length === GoAwayCode.protocolError
              ? 'protocol error'
              : h.length === GoAwayCode.internalError
                ? 'internal error'
                : `code ${h.length}`;
          throw new TailnetProtocolError('yamux', `peer went away (${what})`);
        }
        return;
      default:
        this.handleStream(h, body);
    }
  }

  private handleStream(h: YamuxHeader, body: Uint8Array): void {
    const slot = this.streams.get(h.streamId);
    if (h.flags & Flag.syn) {
      if (slot) throw new TailnetProtocolError('yamux', `duplicate SYN for stream ${h.streamId}`);
      // A client serves nothing: refuse any stream the server opens.
      this.send(encodeHeader({ type: FrameType.windowUpdate, flags: Flag.rst, streamId: h.streamId, length: 0 }));
      return;
    }
    // A stream we reset or finished: hashicorp drops such frames too.
    if (!slot) return;
    if (h.type === FrameType.windowUpdate) {
      slot.sendWindow = Math.min(slot.sendWindow + h.length, 0xffffffff);
      this.flush(slot);
    } else {
      if (h.length > slot.recvWindow) {
        throw new TailnetProtocolError('yamux', `stream ${slot.id}: ${h.length} bytes beyond a receive window of ${slot.recvWindow}`);
      }
      slot.recvWindow -= h.length;
      if (!(h.flags & Flag.rst) && body.length > 0) {
        slot.h.onData(body);
        this.refillWindow(slot);
      }
    }
    this.processFlags(slot, h.flags);
  }

  /** hashicorp sends the update once at least half of the window has been consumed. */
  private refillWindow(slot: StreamSlot): void {
    if (this.closed || !this.streams.has(slot.id)) return;
    const delta = INITIAL_WINDOW - slot.recvWindow;
    if (delta < INITIAL_WINDOW / 2) return;
    slot.recvWindow += delta;
    this.send(encodeHeader({ type: FrameType.windowUpdate, flags: 0, streamId: slot.id, length: delta }));
  }

  private processFlags(slot: StreamSlot, flags: number): void {
    if (this.closed || !this.streams.has(slot.id)) return;
    if (flags & Flag.rst) {
      this.streams.delete(slot.id);
      slot.h.onEnd('rst');
      return;
    }
    if (flags & Flag.fin && !slot.remoteClosed) {
      slot.remoteClosed = true;
      if (slot.localClosed) this.streams.delete(slot.id);
      slot.h.onEnd('fin');
    }
  }

  private flush(slot: StreamSlot): void {
    while (slot.pending.length > 0 && slot.sendWindow > 0) {
      const first = slot.pending[0]!;
      const n = Math.min(first.length, slot.sendWindow);
      this.send(encodeData(slot.id, 0, first.subarray(0, n)));
      slot.sendWindow -= n;
      slot.pendingBytes -= n;
      if (n === first.length) slot.pending.shift();
      else slot.pending[0] = first.subarray(n);
    }
    if (slot.finQueued && slot.pending.length === 0 && !slot.localClosed) {
      slot.localClosed = true;
      this.send(encodeHeader({ type: FrameType.windowUpdate, flags: Flag.fin, streamId: slot.id, length: 0 }));
      if (slot.remoteClosed) this.streams.delete(slot.id);
    }
  }

  private armPing(): void {
    const every = this.o.keepAliveMs ?? 15_000;
    this.pingTimer = this.o.clock.setTimeout(() => {
      if (this.closed) return;
      if (!this.pingWait) {
        const opaque = this.pingSeq++ >>> 0;
        const timer = this.o.clock.setTimeout(() => {
          this.fail(new TailnetProtocolError('keepalive', `ping not answered within ${this.o.pingTimeoutMs ?? 10_000} ms`));
        }, this.o.pingTimeoutMs ?? 10_000);
        this.pingWait = { opaque, timer };
        this.send(encodeHeader({ type: FrameType.ping, flags: Flag.syn, streamId: 0, length: opaque }));
      }
      this.armPing();
    }, every);
  }

  private armIdle(ms: number): void {
    const limit = this.o.idleTimeoutMs ?? 45_000;
    this.idleTimer = this.o.clock.setTimeout(() => {
      if (this.closed) return;
      const silent = this.o.clock.now() - this.lastReceived;
      if (silent >= limit) this.fail(new TailnetProtocolError('keepalive', `nothing received for ${Math.round(silent / 1000)} s`));
      else this.armIdle(limit - silent);
    }, ms);
  }
}

const EMPTY = new Uint8Array(0);

/**
 * The WorkspaceUpdates call over one tailnet byte stream, without the socket: a yamux session,
 * one stream for the call, dRPC framing on it, protobuf messages. Bytes in through receive(),
 * bytes out through `write`, decoded deltas out through `onUpdate`. Whatever the peer sends,
 * nothing is thrown to the caller: a broken rule ends the call once, through `onEnd`, with a
 * CloseReason the reconnect reducer understands.
 */
import type { Clock } from '../../common/clock';
import type { CloseReason } from '../socket';
import { DrpcKind, DrpcReader, decodeErrorPacket, encodeStreamingCall, type DrpcPacket } from './drpc';
import { WORKSPACE_UPDATES_RPC, decodeWorkspaceUpdate, encodeWorkspaceUpdatesRequest, type FleetDelta } from './messages';
import { TailnetProtocolError } from './protocolError';
import { YamuxSession, type YamuxStream } from './yamux';

export interface KeepAliveOptions {
  /** Our yamux ping every this many ms (default 15 s; 0 turns keep-alive off). */
  keepAliveMs?: number;
  /** A ping unanswered this long means half-open (default 10 s). */
  pingTimeoutMs?: number;
  /** Nothing received this long means half-open (default 45 s). */
  idleTimeoutMs?: number;
}

export interface WorkspaceUpdatesCallOptions extends KeepAliveOptions {
  clock: Clock;
  /** The 16 bytes of the owner's UUID. */
  ownerId: Uint8Array;
  write(bytes: Uint8Array): void;
  onUpdate(delta: FleetDelta): void;
  /** Called once: the call is over and the session with it. */
  onEnd(reason: CloseReason): void;
}

/** The dRPC stream id of the one call made on a fresh dRPC connection. */
const CALL_STREAM = 1;

export class WorkspaceUpdatesCall {
  private readonly session: YamuxSession;
  private readonly stream: YamuxStream | undefined;
  private readonly reader = new DrpcReader();
  private ended = false;

  constructor(private readonly o: WorkspaceUpdatesCallOptions) {
    this.session = new YamuxSession({
      clock: o.clock,
      write: (bytes) => o.write(bytes),
      keepAliveMs: o.keepAliveMs,
      pingTimeoutMs: o.pingTimeoutMs,
      idleTimeoutMs: o.idleTimeoutMs,
      onClose: (e) => this.end(e ? reasonOf(e) : { kind: 'closed', code: 1000, reason: 'tailnet session closed' }),
    });
    this.stream = this.session.openStream({
      onData: (bytes) => {
        for (const p of this.reader.push(bytes)) this.handle(p);
      },
      onEnd: (how) => {
        throw new TailnetProtocolError('rpc', how === 'rst' ? 'server reset the call' : 'server ended the call');
      },
    });
    this.stream.write(encodeStreamingCall(WORKSPACE_UPDATES_RPC, encodeWorkspaceUpdatesRequest(o.ownerId), CALL_STREAM));
  }

  /** Bytes held in memory by every layer. */
  get bufferedBytes(): number {
    return this.session.bufferedBytes + this.reader.bufferedBytes;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  receive(bytes: Uint8Array): void {
    this.session.receive(bytes);
  }

  /** A WebSocket ping proves the peer alive as much as a yamux frame does. */
  noteAlive(): void {
    this.session.noteAlive();
  }

  /** Ends the call from our side: FIN on the stream, go away on the session. */
  close(): void {
    if (this.ended) return;
    this.ended = true;
    this.stream?.closeWrite();
    this.session.close();
  }

  private handle(p: DrpcPacket): void {
    if (p.streamId !== CALL_STREAM) throw new TailnetProtocolError('drpc', `packet for dRPC stream ${p.streamId}`);
    switch (p.kind) {
      case DrpcKind.message: {
        const delta = decodeWorkspaceUpdate(p.data);
        if (!this.ended) this.o.onUpdate(delta);
        return;
      }
      case DrpcKind.error: {
        const { code, message } = decodeErrorPacket(p.data);
        throw new TailnetProtocolError('rpc', `server error ${code}: ${message.slice(0, 200)}`);
      }
      case DrpcKind.close:
      case DrpcKind.closeSend:
        throw new TailnetProtocolError('rpc', 'server closed the call');
      case DrpcKind.invoke:
      case DrpcKind.invokeMetadata:
        throw new TailnetProtocolError('drpc', `server sent an invoke (kind ${p.kind})`);
      default:
        throw new TailnetProtocolError('drpc', `unknown packet kind ${p.kind}`);
    }
  }

  private end(reason: CloseReason): void {
    if (this.ended) return;
    this.ended = true;
    this.o.onEnd(reason);
  }
}

function reasonOf(e: TailnetProtocolError): CloseReason {
  if (e.layer === 'keepalive') return { kind: 'heartbeat', message: e.message };
  // The server ending the call is not a broken rule, but it is retried the same way.
  if (e.layer === 'rpc') return { kind: 'closed', code: 1000, reason: e.message };
  return { kind: 'protocol', message: e.message };
}

/**
 * `GET /api/v2/tailnet?version=2.3`: the user's whole fleet over one WebSocket (binary messages,
 * yamux, dRPC, protobuf), answering like coderd: refusals before the upgrade as JSON bodies, then
 * the WorkspaceUpdates call with a snapshot and the differences after every change. Switchable per
 * simulator to the answers of deployments that do not offer it and to the faults a client must survive.
 */
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import type { SimClock } from '../clock';
import type { SimUser, WorkspaceRow } from '../state';
import { encodeFrame, MAX_PACKET } from './drpc';
import { diff, owned, snapshot, type Owned } from './fleet';
import { decodeRequest, emptyUpdate, encodeUpdate, ProtoError, uuidString, type PbUpdate } from './proto';
import { DrpcConn, type Call } from './rpc';
import { GO_AWAY, YamuxSession } from './yamux';

/**
 * `on` serves the stream. Deployments without it: `absent` (404, no route), `old-server` (400, tailnet
 * API 2.2), `browser-only` (409), `refused` (403, a proxy or policy). Faults, applied to the open
 * sessions when set and to every new one while set: `drop` (the socket closes), `half-open` (nothing
 * is sent any more, pings unanswered), `garbage` (bytes that do not parse, at the `garbage` layer),
 * `oversize` (a message over 4 MiB).
 */
export type TailnetMode = 'on' | 'absent' | 'old-server' | 'browser-only' | 'refused' | 'drop' | 'half-open' | 'garbage' | 'oversize';
export type GarbageLayer = 'yamux' | 'drpc' | 'protobuf';

export interface TailnetOptions {
  mode?: TailnetMode;
  garbage?: GarbageLayer;
  /** The server's yamux keepalive (hashicorp: every 30 s, dropped after 10 s without an answer). */
  pingIntervalMs?: number;
  pingTimeoutMs?: number;
}

export interface TailnetStats {
  sessions: number;
  accepted: number;
  updatesSent: number;
  /** yamux bytes written to the sessions (WebSocket framing not included; the sockets' bytes are in bytesSent). */
  bytesSent: number;
}

type Gate = { user: SimUser } | { status: number; message: string; detail?: string };

/** The tailnet API version of the simulated deployment (the same number as its agent API). */
const CURRENT = { major: 2, minor: 6 };
/** Coder v2.13 to v2.17: the route exists, WorkspaceUpdates does not. */
const OLD_SERVER = { major: 2, minor: 2 };
const FAULTS: ReadonlySet<TailnetMode> = new Set(['drop', 'half-open', 'garbage', 'oversize']);
const YAMUX_GARBAGE = Buffer.from('GARBAGE\x00\xff\xfe not a yamux frame\r\n', 'latin1');
/** A field with wire type 7, which no protobuf decoder accepts. */
const PROTOBUF_GARBAGE = Buffer.from([0x0f, 0x01, 0x02, 0x03]);

/** coderd's `apiversion.Validate`: the error text, or undefined when the server serves that version. */
export function versionError(version: string, server: { major: number; minor: number }): string | undefined {
  const parts = version.split('.');
  if (parts.length !== 2) return `invalid version string: ${version}`;
  const int = (s: string) => (/^[+-]?\d+$/.test(s) && Math.abs(Number(s)) <= 2 ** 63 ? Number(s) : undefined);
  const major = int(parts[0]!);
  if (major === undefined) return `invalid major version: ${version}`;
  const minor = int(parts[1]!);
  if (minor === undefined) return `invalid minor version: ${version}`;
  const at = `server is at version ${server.major}.${server.minor}`;
  if (major > server.major) return `${at}, behind requested major version ${version}`;
  if (major === server.major) return minor > server.minor ? `${at}, behind requested minor version ${version}` : undefined;
  return `version ${version} is no longer supported`;
}

function refuse(socket: Socket, status: number, body: Record<string, unknown>): void {
  const text = JSON.stringify(body);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`,
  );
}

/**
 * The WebSocket library's Origin check: a client that sends no Origin passes, a browser's Origin must
 * name the same host. Its refusal is a plain-text 403, not a Coder error body.
 */
function originError(req: IncomingMessage): string | undefined {
  const origin = req.headers.origin;
  if (!origin) return undefined;
  const host = URL.canParse(origin) ? new URL(origin).host : '';
  if (host && host.toLowerCase() === (req.headers.host ?? '').toLowerCase()) return undefined;
  const why = host ? `is not authorized for Host ${JSON.stringify(req.headers.host ?? '')}` : 'is not a valid URL with a host';
  return `request Origin ${JSON.stringify(origin)} ${why}\n`;
}

const toBuffer = (d: RawData): Buffer => (Buffer.isBuffer(d) ? d : Array.isArray(d) ? Buffer.concat(d) : Buffer.from(d));

interface Session {
  ws: WebSocket;
  yamux: YamuxSession;
  user: SimUser;
  calls: Set<Call>;
}

interface Subscription {
  call: Call;
  ownerId: string;
  prev: Map<string, Owned>;
}

export class TailnetServer {
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sessions = new Set<Session>();
  private readonly subs = new Set<Subscription>();
  private readonly settings: Required<TailnetOptions>;
  private accepted = 0;
  private updatesSent = 0;
  private bytesSent = 0;
  private cancelWsPing: () => void = () => {};
  private oversizeMessage: Buffer | undefined;

  constructor(
    private readonly clock: SimClock,
    private readonly workspaces: () => Iterable<WorkspaceRow>,
    private readonly wsPingIntervalMs: number,
    opts: TailnetOptions = {},
  ) {
    this.settings = { mode: 'on', garbage: 'yamux', pingIntervalMs: 30_000, pingTimeoutMs: 10_000, ...opts };
    this.scheduleWsPing();
  }

  stats(): TailnetStats {
    return { sessions: this.sessions.size, accepted: this.accepted, updatesSent: this.updatesSent, bytesSent: this.bytesSent };
  }

  /** Refusals in coderd's order (no route or a proxy, then auth, browser-only, version), else the upgrade. */
  async upgrade(req: IncomingMessage, socket: Socket, head: Buffer, url: URL, gate: () => Gate, latencyMs = 0): Promise<void> {
    if (latencyMs > 0) await new Promise((r) => setTimeout(r, latencyMs));
    const mode = this.settings.mode;
    if (mode === 'absent') return refuse(socket, 404, { message: 'Route not found.' });
    if (mode === 'refused') return refuse(socket, 403, { message: 'Forbidden.', detail: 'A policy refuses this connection.' });
    const g = gate();
    if (!('user' in g)) return refuse(socket, g.status, { message: g.message, detail: g.detail });
    if (mode === 'browser-only') return refuse(socket, 409, { message: 'Non-browser connections are disabled for your deployment.' });
    // coderd reads a missing version as 2.0.
    const err = versionError(url.searchParams.get('version') || '2.0', mode === 'old-server' ? OLD_SERVER : CURRENT);
    if (err)
      return refuse(socket, 400, { message: 'Unknown or unsupported API version', validations: [{ field: 'version', detail: err }] });
    const origin = originError(req);
    if (origin) {
      const head403 = `HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(origin)}`;
      return void socket.end(`${head403}\r\nConnection: close\r\n\r\n${origin}`);
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.open(ws, g.user));
  }

  private open(ws: WebSocket, user: SimUser): void {
    this.accepted++;
    ws.on('error', () => {});
    if (this.settings.mode === 'drop') return void ws.terminate();
    const yamux = new YamuxSession(
      {
        write: (b) => {
          this.bytesSent += b.length;
          ws.send(b);
        },
        destroy: () => ws.terminate(),
        end: () => ws.close(1000),
      },
      {
        clock: this.clock,
        pingIntervalMs: this.settings.pingIntervalMs,
        pingTimeoutMs: this.settings.pingTimeoutMs,
        onStream: (s) => new DrpcConn(s, (call, request) => this.serve(session, call, request)),
      },
    );
    const session: Session = { ws, user, calls: new Set(), yamux };
    this.sessions.add(session);
    ws.on('message', (data, isBinary) => {
      // The server reads binary messages only, as coderd's net.Conn over the WebSocket does.
      if (!isBinary) return ws.close(1003, 'unexpected frame type');
      session.yamux.receive(toBuffer(data));
    });
    ws.on('close', () => {
      this.sessions.delete(session);
      session.yamux.close('gone');
    });
    if (this.settings.mode === 'half-open') session.yamux.mute();
    if (this.settings.mode === 'garbage' && this.settings.garbage === 'yamux') session.yamux.sendRaw(YAMUX_GARBAGE);
  }

  /** WorkspaceUpdates: the snapshot first, then a message for every difference. */
  private serve(session: Session, call: Call, request: Buffer): void {
    let owner: Buffer;
    try {
      owner = decodeRequest(request);
    } catch (e) {
      if (!(e instanceof ProtoError)) throw e;
      return call.error(0, e.message);
    }
    // A malformed owner id: the handler's deferred Close goes out before its error can.
    if (owner.length !== 16) return call.close();
    const ownerId = uuidString(owner);
    // Another owner's workspaces are filtered out by authorization: an empty snapshot, nothing after.
    const mine = ownerId === session.user.id;
    const first = mine ? snapshot(this.workspaces(), ownerId) : { update: emptyUpdate(), seen: new Map<string, Owned>() };
    session.calls.add(call);
    const sub: Subscription = { call, ownerId, prev: first.seen };
    if (mine) this.subs.add(sub);
    call.onEnd = () => {
      session.calls.delete(call);
      this.subs.delete(sub);
    };
    const mode = this.settings.mode;
    if (mode === 'oversize' || (mode === 'garbage' && this.settings.garbage !== 'yamux')) this.breakCall(call);
    else this.send(call, first.update);
  }

  private send(call: Call, u: PbUpdate): void {
    this.updatesSent++;
    call.message(encodeUpdate(u));
  }

  /** A change of one workspace, to every WorkspaceUpdates call of its owner that it makes a difference to. */
  publish(ws: WorkspaceRow): void {
    if (this.subs.size === 0) return;
    const next = owned(ws);
    for (const sub of this.subs) {
      if (sub.ownerId !== ws.owner.id) continue;
      const out = emptyUpdate();
      if (!diff(sub.prev.get(ws.id), next, out)) continue;
      if (next) sub.prev.set(ws.id, next);
      else sub.prev.delete(ws.id);
      this.send(sub.call, out);
    }
  }

  /** What the current fault sends on a call in place of its next message. */
  private breakCall(call: Call): void {
    if (this.settings.mode === 'oversize') {
      this.oversizeMessage ??= encodeUpdate({
        ...emptyUpdate(),
        upsertedWorkspaces: [{ id: randomUUID(), name: 'x'.repeat(MAX_PACKET + 1024), status: 3 }],
      });
      return call.message(this.oversizeMessage);
    }
    if (this.settings.garbage === 'protobuf') return call.message(PROTOBUF_GARBAGE);
    // A frame of kind 12, which dRPC does not define.
    call.raw(encodeFrame(12, true, call.stream, call.nextId, Buffer.from('?')));
  }

  set(opts: TailnetOptions): void {
    const defined = Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined));
    Object.assign(this.settings, defined);
    const mode = this.settings.mode;
    if (opts.mode === undefined) return;
    for (const s of [...this.sessions]) {
      if (mode === 'drop') s.ws.terminate();
      else if (mode === 'half-open') s.yamux.mute();
      else if (mode === 'garbage' && this.settings.garbage === 'yamux') s.yamux.sendRaw(YAMUX_GARBAGE);
      else if (mode === 'garbage' || mode === 'oversize') for (const c of s.calls) this.breakCall(c);
    }
  }

  /** `fault('clear')`: the faults end; a deployment's lack of the route is configuration and stays. */
  clearFaults(): void {
    if (FAULTS.has(this.settings.mode)) this.settings.mode = 'on';
  }

  dropAll(): void {
    for (const s of [...this.sessions]) s.ws.terminate();
  }

  muteAll(): void {
    for (const s of this.sessions) s.yamux.mute();
  }

  /** The server going down: a yamux go away, then the WebSocket closes with 1001. */
  shutdown(): void {
    for (const s of [...this.sessions]) {
      s.yamux.goAway(GO_AWAY.normal);
      s.ws.close(1001, 'server shutting down');
    }
  }

  private scheduleWsPing(): void {
    this.cancelWsPing = this.clock.setTimer(() => {
      for (const s of this.sessions) if (!s.yamux.muted) s.ws.ping();
      this.scheduleWsPing();
    }, this.wsPingIntervalMs);
  }

  dispose(): void {
    this.cancelWsPing();
    this.dropAll();
  }
}

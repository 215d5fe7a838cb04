/**
 * A simulated Coder deployment speaking the real wire format (see README.md here). Tests use it
 * in-process; `npm run sim` and `npm start` run it as a process with an HTTP admin surface.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { randomUUID } from 'node:crypto';
import { WebSocketServer } from 'ws';
import { createClock, type ClockMode, type SimClock } from './clock';
import { authenticate, errorBody, NOT_FOUND, parseFilter, readBody, sendError, sendJson, SIGNED_OUT, tokenOf } from './http';
import {
  latestBuild,
  renderAgent,
  renderBuild,
  renderWorkspace,
  workspaceStatus,
  type AgentSpec,
  type SimUser,
  type WorkspaceRow,
  type WorkspaceSpec,
} from './state';
import { StreamHub, type Faults } from './streams';
import { BuildActiveError, World } from './world';
import { handleAdmin } from './admin';
import { demoFleet } from './demo';
import { TailnetServer, type TailnetOptions } from './tailnet/server';
import { DevcontainerSim } from './devcontainers';

export type { AgentSpec, WorkspaceSpec };
export type { TailnetMode, TailnetOptions } from './tailnet/server';
export type ScenarioName =
  | 'rebuild'
  | 'surviving-agent'
  | 'never-connects'
  | 'start-error'
  | 'start-timeout'
  | 'stop'
  | 'delete'
  | 'build-failed'
  | 'flapping'
  | 'stop-flapping';
export type FaultKind =
  | 'drop-streams'
  | 'drop-stream'
  | 'half-open'
  | 'malformed-frames'
  | 'extra-fields'
  | 'http-5xx'
  | 'latency'
  | 'expire-token'
  | 'server-shutdown'
  | 'block-websockets'
  | 'clear';

export interface SimOptions {
  host?: string;
  port?: number;
  clock?: ClockMode;
  /** The simulated deployment's clock runs this far ahead (negative: behind) of real time. */
  clockOffsetMs?: number;
  streams?: { connectionWatch?: boolean; watchWs?: boolean; sse?: boolean };
  /** `devcontainers`: the containers list, watch, recreate and delete routes (off: 404, a server before v2.23). */
  operations?: { replay?: boolean; reinit?: boolean; devcontainers?: boolean };
  /** What /buildinfo answers as `version` (default v2.24.1+sim); setVersion() upgrades it. */
  version?: string;
  pingIntervalMs?: number;
  /** `/api/v2/tailnet` (WorkspaceUpdates): served by default; see TailnetMode for the other answers. */
  tailnet?: TailnetOptions;
  fleet?: 'demo' | 'empty';
  token?: string;
  adminToken?: string;
  agentTimings?: { connectMs?: number; startingMs?: number; readyMs?: number };
  buildTimings?: { pendingMs?: number; runningMs?: number };
}

export interface SimStats {
  requests: number;
  requestsByRoute: Record<string, number>;
  openStreams: number;
  connectionsAccepted: number;
  /** Bytes written to clients on every socket (headers, bodies, frames), the admin surface included. */
  bytesSent: number;
  /** Tailnet WebSocket sessions, counted apart from the per-workspace `openStreams`. */
  tailnetSessions: number;
  tailnetSessionsAccepted: number;
  /** WorkspaceUpdate messages sent, snapshots included. */
  tailnetUpdatesSent: number;
  /** yamux bytes written on tailnet sessions, WebSocket framing aside (the same bytes are in bytesSent). */
  tailnetBytesSent: number;
}

export interface SimRequest {
  /** Wall-clock ms (Date.now()), comparable across processes. */
  at: number;
  route: string;
  /** Path and query. */
  url: string;
}

export interface SimEvent {
  workspaceId: string;
  kind: string;
  at: number;
}

export class Simulator {
  url = '';
  readonly token: string;
  readonly adminToken: string;
  readonly clock: SimClock;
  readonly world: World;
  private readonly hub: StreamHub;
  private readonly tailnet: TailnetServer;
  readonly devcontainers: DevcontainerSim;
  private readonly faults: Faults = { halfOpen: false, malformed: 0, extraFields: false, blockWebSockets: false };
  private http5xx: { status: number; until: number } | undefined;
  private latencyMs = 0;
  private streamsOn: Required<NonNullable<SimOptions['streams']>>;
  private opsOn: Required<NonNullable<SimOptions['operations']>>;
  private version: string;
  private server: Server | undefined;
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sockets = new Set<Socket>();
  private readonly listeners = new Set<(e: SimEvent) => void>();
  /** Every request and upgrade with its wall-clock time, while `logRequests(true)`; read with takeRequestLog(). */
  private requestLog: SimRequest[] | undefined;
  private counters = { requests: 0, connectionsAccepted: 0, closedBytes: 0, byRoute: {} as Record<string, number> };
  private port: number;

  constructor(private readonly opts: SimOptions = {}) {
    this.clock = createClock(opts.clock);
    if (opts.clockOffsetMs) this.clock.setOffset(opts.clockOffsetMs);
    this.port = opts.port ?? 0;
    this.streamsOn = { connectionWatch: true, watchWs: true, sse: true, ...opts.streams };
    this.opsOn = { replay: true, reinit: true, devcontainers: true, ...opts.operations };
    this.version = opts.version ?? 'v2.24.1+sim';
    this.world = new World(
      this.clock,
      {
        connectMs: opts.agentTimings?.connectMs ?? 1000,
        startingMs: opts.agentTimings?.startingMs ?? 500,
        readyMs: opts.agentTimings?.readyMs ?? 3000,
        pendingMs: opts.buildTimings?.pendingMs ?? 500,
        runningMs: opts.buildTimings?.runningMs ?? 2000,
      },
      (id, kind) => this.publish(id, kind),
    );
    this.hub = new StreamHub(this.clock, opts.pingIntervalMs ?? 15_000, this.faults, () => this.renderOptions());
    this.tailnet = new TailnetServer(this.clock, () => this.world.workspaces.values(), opts.pingIntervalMs ?? 15_000, opts.tailnet);
    this.devcontainers = new DevcontainerSim(this.world, this.clock, this.hub);
    this.token = this.world.addUser('alice', opts.token).token;
    this.adminToken = opts.adminToken ?? randomUUID();
    if (opts.fleet === 'demo') demoFleet(this);
  }

  renderOptions() {
    return { now: this.clock.now(), url: this.url, extraFields: this.faults.extraFields };
  }

  // ---- lifecycle of the server ----------------------------------------------------------------

  async listen(): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    server.on('upgrade', (req, socket, head) => void this.upgrade(req, socket as Socket, head));
    server.on('connection', (s: Socket) => {
      this.counters.connectionsAccepted++;
      this.sockets.add(s);
      s.on('close', () => {
        this.counters.closedBytes += s.bytesWritten;
        this.sockets.delete(s);
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.opts.host ?? '127.0.0.1', () => resolve());
    });
    const addr = server.address();
    if (addr && typeof addr === 'object') this.port = addr.port;
    this.url = `http://${this.opts.host ?? '127.0.0.1'}:${this.port}`;
    this.server = server;
  }

  /** Closes the listener and every connection; the state and the clock go on. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.hub.dropAll();
    this.tailnet.dropAll();
    for (const s of this.sockets) s.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.listen();
  }

  async close(): Promise<void> {
    this.stopChurn();
    await this.stop();
    this.hub.dispose();
    this.tailnet.dispose();
    this.world.dispose();
    this.clock.dispose();
    this.listeners.clear();
  }

  // ---- in-process API -------------------------------------------------------------------------

  addUser(username: string): { id: string; token: string } {
    return this.world.addUser(username);
  }

  createWorkspace(spec: WorkspaceSpec): string {
    return this.world.createWorkspace(spec);
  }

  createFleet(count: number, opts: { agentsPerWorkspace?: number; owner?: string; namePrefix?: string } = {}): string[] {
    const agents: AgentSpec[] = Array.from({ length: opts.agentsPerWorkspace ?? 1 }, (_, i) => ({
      name: i === 0 ? 'main' : `agent${i + 1}`,
    }));
    return Array.from({ length: count }, (_, i) =>
      this.world.createWorkspace({ owner: opts.owner, name: `${opts.namePrefix ?? 'ws'}-${i}`, agents }),
    );
  }

  getWorkspace(id: string): unknown {
    return renderWorkspace(this.world.workspace(id), this.renderOptions());
  }

  findAgent(workspaceId: string, name: string): any {
    const a = latestBuild(this.world.workspace(workspaceId)).agents.find((x) => x.name === name);
    return a && renderAgent(a, this.renderOptions());
  }

  build(workspaceId: string, transition: 'start' | 'stop' | 'delete'): void {
    this.world.build(workspaceId, transition);
  }

  restartWorkspace(workspaceId: string): void {
    this.world.restart(workspaceId);
  }

  setLifecycle(agentId: string, state: string): void {
    this.world.setLifecycle(agentId, state);
  }

  setAgentConnected(agentId: string, connected: boolean): void {
    this.world.setAgentConnected(agentId, connected);
  }

  scenario(name: ScenarioName, workspaceId: string, opts: Record<string, unknown> = {}): void {
    const w = this.world;
    switch (name) {
      case 'rebuild':
        return w.restart(workspaceId);
      case 'surviving-agent':
        return w.restart(workspaceId, 'surviving');
      case 'never-connects':
        return w.restart(workspaceId, 'never-connects');
      case 'start-error':
        return w.restart(workspaceId, 'start-error');
      case 'start-timeout':
        return w.restart(workspaceId, 'start-timeout');
      case 'stop':
        return void w.build(workspaceId, 'stop');
      case 'delete':
        return void w.build(workspaceId, 'delete');
      case 'build-failed':
        return void w.build(workspaceId, 'start', { fail: true });
      case 'flapping':
        return w.startFlapping(workspaceId, Number(opts['intervalMs'] ?? 2000));
      case 'stop-flapping':
        return w.stopFlapping(workspaceId);
      default:
        throw new Error(`unknown scenario ${String(name)}`);
    }
  }

  fault(kind: FaultKind, opts: Record<string, unknown> = {}): void {
    switch (kind) {
      case 'drop-streams':
        this.tailnet.dropAll();
        return this.hub.dropAll();
      case 'drop-stream': // one stream of one workspace goes away (1001), the others stay open
        return this.hub.dropOne(String(opts['workspace'] ?? ''), String(opts['stream'] ?? 'watch-ws'));
      case 'half-open':
        this.faults.halfOpen = true;
        this.tailnet.muteAll();
        return this.hub.muteAll();
      case 'malformed-frames':
        this.faults.malformed = Number(opts['count'] ?? 1);
        return this.hub.setGarbage(this.faults.malformed);
      case 'extra-fields':
        this.faults.extraFields = true;
        return;
      case 'http-5xx':
        this.http5xx = { status: Number(opts['status'] ?? 503), until: this.clock.now() + Number(opts['durationMs'] ?? 10_000) };
        return;
      case 'latency':
        this.latencyMs = Number(opts['ms'] ?? 100);
        return;
      case 'expire-token': {
        const t = this.world.tokens.get(typeof opts['token'] === 'string' ? opts['token'] : this.token);
        if (t) t.expired = true;
        return;
      }
      case 'server-shutdown':
        this.tailnet.shutdown();
        return this.hub.shutdown();
      case 'block-websockets':
        this.faults.blockWebSockets = true;
        this.tailnet.dropAll();
        return this.hub.dropAll();
      case 'clear':
        Object.assign(this.faults, { halfOpen: false, malformed: 0, extraFields: false, blockWebSockets: false });
        this.http5xx = undefined;
        this.latencyMs = 0;
        this.tailnet.clearFaults();
        for (const t of this.world.tokens.values()) t.expired = false;
        return;
      default:
        throw new Error(`unknown fault ${String(kind)}`);
    }
  }

  setStreams(s: SimOptions['streams']): void {
    this.streamsOn = { ...this.streamsOn, ...s };
  }

  setOperations(o: SimOptions['operations']): void {
    this.opsOn = { ...this.opsOn, ...o };
  }

  /** An upgrade of the deployment (what /buildinfo says from now on). */
  setVersion(version: string): void {
    this.version = version;
  }

  /** The tailnet route's answer (TailnetMode) and keepalive timings; a fault mode applies to open sessions at once. */
  setTailnet(o: TailnetOptions): void {
    this.tailnet.set(o);
  }

  /**
   * Lifecycle flips spread over running agents, for load; `buildShare` of the events are builds
   * instead (a stopped workspace starts, a running one alternately stops or rebuilds).
   */
  churn(opts: { eventsPerSecond: number; buildShare?: number }): { stop(): void } {
    const running = () =>
      [...this.world.workspaces.values()]
        .filter((ws) => workspaceStatus(latestBuild(ws)) === 'running')
        .flatMap((ws) => latestBuild(ws).agents);
    let agents = running();
    let budget = 0;
    let last = Date.now();
    let cursor = 0;
    let buildCursor = 0;
    let builds = 0;
    const buildShare = Math.min(1, Math.max(0, opts.buildShare ?? 0));
    const build = () => {
      const all = [...this.world.workspaces.values()];
      for (let tries = 0; tries < all.length; tries++) {
        const ws = all[buildCursor++ % all.length]!;
        if (this.world.isBuildActive(ws)) continue;
        const b = latestBuild(ws);
        if (b.transition === 'start' && b.jobStatus === 'succeeded') {
          if (builds++ % 2 === 0) this.world.restart(ws.id);
          else this.world.build(ws.id, 'stop');
        } else if (b.transition === 'stop') this.world.build(ws.id, 'start');
        else continue;
        return;
      }
    };
    const timer = setInterval(() => {
      const now = Date.now();
      budget += ((now - last) / 1000) * opts.eventsPerSecond;
      last = now;
      if (agents.length === 0) agents = running();
      while (budget >= 1 && agents.length > 0) {
        budget--;
        if (buildShare > 0 && Math.random() < buildShare) {
          build();
          continue;
        }
        const a = agents[cursor++ % agents.length]!;
        if (this.world.isLatest(a)) this.world.setLifecycle(a.id, a.lifecycle === 'ready' ? 'starting' : 'ready');
      }
    }, 10);
    const refresh = setInterval(() => (agents = running()), 1000);
    return {
      stop: () => {
        clearInterval(timer);
        clearInterval(refresh);
      },
    };
  }

  private activeChurn: { stop(): void } | undefined;

  /** churn() for the admin surface: one at a time. */
  startChurn(eventsPerSecond: number, buildShare = 0): void {
    this.activeChurn = this.churn({ eventsPerSecond, buildShare });
  }

  stopChurn(): void {
    this.activeChurn?.stop();
    this.activeChurn = undefined;
  }

  stats(): SimStats {
    let bytesSent = this.counters.closedBytes;
    for (const s of this.sockets) bytesSent += s.bytesWritten;
    const t = this.tailnet.stats();
    return {
      requests: this.counters.requests,
      requestsByRoute: { ...this.counters.byRoute },
      openStreams: this.hub.size,
      connectionsAccepted: this.counters.connectionsAccepted,
      bytesSent,
      tailnetSessions: t.sessions,
      tailnetSessionsAccepted: t.accepted,
      tailnetUpdatesSent: t.updatesSent,
      tailnetBytesSent: t.bytesSent,
    };
  }

  onEvent(listener: (e: SimEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private publish(workspaceId: string, kind: string): void {
    const ws = this.world.workspaces.get(workspaceId);
    if (!ws) return;
    this.hub.publish(ws);
    this.tailnet.publish(ws);
    this.devcontainers.publish(ws);
    if (this.hub.hasLogFollowers()) for (const b of ws.builds.slice(-2)) for (const a of b.agents) this.hub.flushLogs(a.id, a.logs);
    const e = { workspaceId, kind, at: this.clock.now() };
    for (const l of this.listeners) l(e);
  }

  // ---- HTTP -----------------------------------------------------------------------------------

  logRequests(on: boolean): void {
    this.requestLog = on ? (this.requestLog ?? []) : undefined;
  }

  takeRequestLog(): SimRequest[] {
    const log = this.requestLog ?? [];
    if (this.requestLog) this.requestLog = [];
    return log;
  }

  private count(route: string, url?: URL): void {
    this.requestLog?.push({ at: Date.now(), route, url: url ? url.pathname + url.search : '' });
    this.counters.requests++;
    this.counters.byRoute[route] = (this.counters.byRoute[route] ?? 0) + 1;
  }

  /** Auth and faults shared by REST and upgrades: the user, or the refusal (status, message, detail). */
  private gate(req: IncomingMessage, url: URL): { user: SimUser } | { status: number; message: string; detail?: string } {
    if (this.http5xx && this.clock.now() < this.http5xx.until)
      return { status: this.http5xx.status, message: 'Internal error.', detail: 'simulated outage' };
    const auth = authenticate(tokenOf(req, url), this.world.tokens);
    if (!auth.ok) return { status: 401, message: SIGNED_OUT, detail: auth.detail };
    return { user: auth.user };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    // The deployment's own time, as Coder's answers carry it (the client measures clock skew from it).
    res.setHeader('Date', new Date(this.clock.now()).toUTCString());
    try {
      if (url.pathname.startsWith('/__sim/')) return await handleAdmin(this, req, res, url);
      if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
      const p = url.pathname.split('/').filter(Boolean);
      if (p[0] !== 'api' || p[1] !== 'v2') return sendError(res, 404, 'Route not found.');
      const r = p.slice(2);
      if (req.method === 'GET' && r[0] === 'buildinfo' && r.length === 1) {
        this.count('GET /buildinfo');
        return sendJson(res, 200, {
          external_url: 'https://github.com/coder/coder',
          version: this.version,
          dashboard_url: this.url,
          workspace_proxy: false,
          agent_api_version: '2.6',
          provisioner_api_version: '1.6',
          upgrade_message: '',
          deployment_id: 'b3c4f1a2-sim',
          telemetry: false,
        });
      }
      const route = `${req.method} /${r.map((x, i) => (/^[0-9a-f-]{36}$/.test(x) || (r[0] === 'users' && (i === 1 || i === 3)) ? '{}' : x)).join('/')}`;
      this.count(route, url);
      const g = this.gate(req, url);
      if (!('user' in g)) return sendError(res, g.status, g.message, g.detail);
      return await this.rest(req, res, url, r, g.user);
    } catch (e) {
      if (!res.headersSent) sendError(res, 500, 'Internal error.', e instanceof Error ? e.message : String(e));
    }
  }

  private async rest(req: IncomingMessage, res: ServerResponse, url: URL, r: string[], user: SimUser): Promise<void> {
    const o = this.renderOptions();
    const ws = (id: string | undefined): WorkspaceRow | undefined => (id ? this.world.workspaces.get(id) : undefined);
    const m = req.method;
    if (m === 'GET' && r[0] === 'users' && r[1] === 'me' && r.length === 2) {
      return sendJson(res, 200, {
        id: user.id,
        username: user.username,
        email: `${user.username}@example.com`,
        name: user.username,
        status: 'active',
        roles: [{ name: 'owner', display_name: 'Owner' }],
        created_at: new Date(0).toISOString(),
        organization_ids: [],
        theme_preference: '',
        login_type: 'password',
      });
    }
    if (m === 'GET' && r[0] === 'workspaces' && r.length === 1) {
      const f = parseFilter(url.searchParams.get('q') ?? '', user);
      if (!f.ok) return sendError(res, 400, 'Invalid workspace search query.', undefined, f.validations);
      const all = [...this.world.workspaces.values()].filter((w) => f.match(w, workspaceStatus(latestBuild(w))));
      const offset = Number(url.searchParams.get('offset') ?? 0) || 0;
      const limit = Number(url.searchParams.get('limit') ?? 0) || all.length;
      return sendJson(res, 200, { workspaces: all.slice(offset, offset + limit).map((w) => renderWorkspace(w, o)), count: all.length });
    }
    if (r[0] === 'workspaces' && r.length >= 2) {
      const w = ws(r[1]);
      if (!w) return sendError(res, 404, NOT_FOUND);
      if (m === 'GET' && r.length === 2) return sendJson(res, 200, renderWorkspace(w, o));
      if (m === 'POST' && r[2] === 'builds' && r.length === 3) return this.postBuild(req, res, w);
      if (m === 'GET' && r[2] === 'watch' && r.length === 3) return this.sse(res, w);
    }
    if (m === 'GET' && r[0] === 'users' && r[2] === 'workspace' && r.length === 4) {
      const owner = r[1] === 'me' ? user.username : r[1];
      const w = [...this.world.workspaces.values()].find((x) => x.owner.username === owner && x.name === r[3]);
      return w ? sendJson(res, 200, renderWorkspace(w, o)) : sendError(res, 404, NOT_FOUND);
    }
    if (r[0] === 'workspaceagents' && r.length >= 2) {
      const a = r[1] ? this.world.agents.get(r[1]) : undefined;
      if (!a) return sendError(res, 404, NOT_FOUND);
      if (m === 'GET' && r.length === 2) return sendJson(res, 200, renderAgent(a, o));
      if (r[2] === 'containers' && r[3] !== 'watch') return this.devcontainers.handle(req, res, a, r.slice(3), this.opsOn.devcontainers);
      if (m === 'GET' && r[2] === 'logs' && r.length === 3) {
        const after = Number(url.searchParams.get('after') ?? 0) || 0;
        return sendJson(
          res,
          200,
          a.logs.filter((l) => l.id > after),
        );
      }
      const op = r.slice(2).join('/');
      if (m === 'POST' && (op === 'lifecycle/replay' || op === 'reinit')) {
        const replay = op === 'lifecycle/replay';
        if (!(replay ? this.opsOn.replay : this.opsOn.reinit)) return sendError(res, 404, 'Route not found.');
        if (!this.world.isLatest(a)) return sendError(res, 409, 'The agent does not belong to the latest build.');
        if (replay) this.world.replay(a.id);
        else this.world.reinit(a.id);
        return sendJson(res, 202, { message: replay ? 'Lifecycle replay requested.' : 'Agent reinitialization requested.' });
      }
    }
    return sendError(res, 404, 'Route not found.');
  }

  private async postBuild(req: IncomingMessage, res: ServerResponse, w: WorkspaceRow): Promise<void> {
    let body: unknown;
    try {
      body = await readBody(req);
    } catch {
      return sendError(res, 400, 'Request body must be valid JSON.');
    }
    const transition = (body as { transition?: unknown }).transition;
    if (transition !== 'start' && transition !== 'stop' && transition !== 'delete') {
      return sendError(res, 400, 'Invalid request body.', undefined, [
        { field: 'transition', detail: 'must be one of start, stop, delete' },
      ]);
    }
    try {
      const b = this.world.build(w.id, transition);
      return sendJson(res, 201, renderBuild(w, b, this.renderOptions()));
    } catch (e) {
      if (e instanceof BuildActiveError) return sendError(res, 409, e.message);
      throw e;
    }
  }

  private sse(res: ServerResponse, w: WorkspaceRow): void {
    if (!this.streamsOn.sse) return sendError(res, 404, 'Route not found.');
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache', Connection: 'keep-alive' });
    this.hub.greet(this.hub.addSse(res, w.id), w);
  }

  private async upgrade(req: IncomingMessage, socket: Socket, head: Buffer): Promise<void> {
    // A client may go away mid-upgrade (e.g. it signed out on its other stream's 401): a reset
    // of this socket is no error of the server's. ws adds its own handling once upgraded.
    socket.on('error', () => {});
    const url = new URL(req.url ?? '/', 'http://sim');
    const r = url.pathname.split('/').filter(Boolean).slice(2);
    const refuse = (status: number, message: string, detail?: string) => {
      socket.end(errorBody(status, message, detail));
    };
    const kind =
      r[0] === 'workspaces' && r[2] === 'agent-connection-watch'
        ? 'connection-watch'
        : r[0] === 'workspaces' && r[2] === 'watch-ws'
          ? 'watch-ws'
          : r[0] === 'workspaceagents' && r[2] === 'logs' && url.searchParams.has('follow')
            ? 'logs'
            : undefined;
    const tailnet = r.length === 1 && r[0] === 'tailnet';
    const containers = r[0] === 'workspaceagents' && r[2] === 'containers' && r[3] === 'watch' && r.length === 4;
    this.count(`WS ${tailnet ? 'tailnet' : (kind ?? (containers ? 'containers' : url.pathname))}`, url);
    if (this.faults.blockWebSockets) return void socket.destroy();
    if (tailnet) return this.tailnet.upgrade(req, socket, head, url, () => this.gate(req, url), this.latencyMs);
    if (containers) return this.upgradeContainers(req, socket, head, url, r[1]);
    if (!kind || r.length !== 3) return refuse(404, 'Route not found.');
    if (this.latencyMs > 0) await new Promise((res) => setTimeout(res, this.latencyMs));
    const g = this.gate(req, url);
    if (!('user' in g)) return refuse(g.status, g.message, g.detail);
    if ((kind === 'connection-watch' && !this.streamsOn.connectionWatch) || (kind === 'watch-ws' && !this.streamsOn.watchWs))
      return refuse(404, 'Route not found.');
    if (kind === 'logs') {
      const a = r[1] ? this.world.agents.get(r[1]) : undefined;
      if (!a) return refuse(404, NOT_FOUND);
      this.wss.handleUpgrade(req, socket, head, (sock) => {
        const after = Number(url.searchParams.get('after') ?? 0) || 0;
        const s = this.hub.addWebSocket('logs', sock, a.workspaceId, { agentId: a.id, logCursor: after });
        const backlog = a.logs.filter((l) => l.id > after);
        s.logCursor = backlog[backlog.length - 1]?.id ?? after;
        sock.send(JSON.stringify(backlog));
      });
      return;
    }
    const w = r[1] ? this.world.workspaces.get(r[1]) : undefined;
    if (!w) return refuse(404, NOT_FOUND);
    this.wss.handleUpgrade(req, socket, head, (sock) => {
      if (kind === 'watch-ws') {
        sock.on('message', () => sock.close(1002, 'the stream is one-way'));
        this.hub.greet(this.hub.addWebSocket('watch-ws', sock, w.id), w);
        return;
      }
      const agentName = url.searchParams.get('agent_name') ?? undefined;
      const agents = latestBuild(w).agents;
      const err = (code: number, message: string) => {
        sock.send(JSON.stringify({ error: { code, retryable: false, message } }));
        sock.close(1000);
      };
      if (latestBuild(w).transition === 'start' && latestBuild(w).jobStatus === 'succeeded') {
        if (agents.length === 0) return err(3, 'workspace has no agents');
        if (!agentName && agents.length > 1) return err(1, 'workspace has more than one agent: agent_name is required');
        if (agentName && !agents.some((a) => a.name === agentName)) return err(2, `agent "${agentName}" not found`);
      }
      this.hub.greet(this.hub.addWebSocket('connection-watch', sock, w.id, { agentName }), w);
    });
  }

  private upgradeContainers(req: IncomingMessage, socket: Socket, head: Buffer, url: URL, agentId: string | undefined): void {
    const g = this.gate(req, url);
    if (!('user' in g)) return void socket.end(errorBody(g.status, g.message, g.detail));
    if (!this.opsOn.devcontainers) return void socket.end(errorBody(404, 'Route not found.'));
    const a = agentId ? this.world.agents.get(agentId) : undefined;
    if (!a) return void socket.end(errorBody(404, NOT_FOUND));
    const off = this.devcontainers.disabled(a);
    if (off) return void socket.end(errorBody(403, off.message, off.detail));
    const refusal = this.devcontainers.notConnected(a);
    if (refusal) return void socket.end(errorBody(400, refusal));
    this.wss.handleUpgrade(req, socket, head, (sock) => this.devcontainers.watch(sock, a));
  }
}

export async function startSimulator(opts: SimOptions = {}): Promise<Simulator> {
  const sim = new Simulator(opts);
  await sim.listen();
  return sim;
}

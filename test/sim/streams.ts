/**
 * Watchers and how events reach them, the way coderd publishes: watch-ws and SSE get the whole
 * workspace on every event; agent-connection-watch gets build_update on build changes and
 * agent_update on lifecycle/id changes while the latest build is a succeeded start.
 */
import type { ServerResponse } from 'node:http';
import type { WebSocket } from 'ws';
import type { SimClock } from './clock';
import { latestBuild, type RenderOptions, renderWorkspace, type WorkspaceRow } from './state';

export interface Faults {
  halfOpen: boolean;
  malformed: number;
  extraFields: boolean;
  /** Every WebSocket upgrade is dropped (a middlebox that lets only plain HTTP through). */
  blockWebSockets: boolean;
}

interface Stream {
  kind: 'connection-watch' | 'watch-ws' | 'sse' | 'logs' | 'containers';
  workspaceId: string;
  /** Frames still to be replaced by garbage (malformed-frames fault). */
  garbage: number;
  muted: boolean;
  send(text: string): void;
  ping(): void;
  close(code?: number, reason?: string): void;
  lastBuildKey?: string;
  lastAgentKey?: string;
  agentName?: string;
  agentId?: string;
  logCursor?: number;
}

export class StreamHub {
  private readonly streams = new Set<Stream>();
  private cancelPing: () => void = () => {};

  constructor(
    private readonly clock: SimClock,
    private readonly pingIntervalMs: number,
    private readonly faults: Faults,
    private readonly render: (ws: WorkspaceRow) => RenderOptions,
  ) {
    this.schedulePing();
  }

  get size(): number {
    return this.streams.size;
  }

  private schedulePing(): void {
    this.cancelPing = this.clock.setTimer(() => {
      for (const s of this.streams) if (!s.muted) s.ping();
      this.schedulePing();
    }, this.pingIntervalMs);
  }

  private frame(s: Stream, text: string): void {
    if (s.muted) return;
    if (s.garbage > 0) {
      s.garbage--;
      s.send('{"type":"data","data":{"id": tru');
      return;
    }
    s.send(text);
  }

  addWebSocket(kind: Stream['kind'], ws: WebSocket, workspaceId: string, extra: Partial<Stream> = {}): Stream {
    const s: Stream = {
      kind,
      workspaceId,
      garbage: this.faults.malformed,
      muted: false,
      ...extra,
      send: (t) => ws.send(t),
      ping: () => ws.ping(),
      close: (code, reason) => (code === undefined ? ws.terminate() : ws.close(code, reason)),
    };
    this.streams.add(s);
    ws.on('close', () => this.streams.delete(s));
    ws.on('error', () => this.streams.delete(s));
    return s;
  }

  addSse(res: ServerResponse, workspaceId: string): Stream {
    const s: Stream = {
      kind: 'sse',
      workspaceId,
      garbage: this.faults.malformed,
      muted: false,
      send: (t) => res.write(`event: data\ndata: ${t}\n\n`),
      ping: () => res.write('event: ping\n\n'),
      close: () => res.destroy(),
    };
    this.streams.add(s);
    res.on('close', () => this.streams.delete(s));
    return s;
  }

  /** The current state to a new watcher, then whatever changes. */
  greet(s: Stream, ws: WorkspaceRow): void {
    if (s.kind === 'watch-ws') this.frame(s, '{"type":"ping","data":null}');
    if (s.kind === 'sse') s.ping();
    this.deliver(s, ws, () => JSON.stringify(renderWorkspace(ws, this.render(ws))));
  }

  publish(ws: WorkspaceRow): void {
    let whole: string | undefined;
    const json = () => (whole ??= JSON.stringify(renderWorkspace(ws, this.render(ws))));
    for (const s of this.streams) if (s.workspaceId === ws.id) this.deliver(s, ws, json);
  }

  private deliver(s: Stream, ws: WorkspaceRow, json: () => string): void {
    if (s.kind === 'watch-ws' || s.kind === 'sse') {
      this.frame(s, s.kind === 'sse' ? json() : `{"type":"data","data":${json()}}`);
      return;
    }
    if (s.kind !== 'connection-watch') return;
    const b = latestBuild(ws);
    const buildKey = `${b.buildNumber}|${b.jobStatus}|${b.transition}`;
    if (buildKey !== s.lastBuildKey) {
      s.lastBuildKey = buildKey;
      this.frame(s, JSON.stringify({ error: null, build_update: { transition: b.transition, job_status: b.jobStatus } }));
    }
    if (b.transition !== 'start' || b.jobStatus !== 'succeeded') return;
    const agent =
      b.agents.find((a) => a.name === s.agentName) ?? (s.agentName ? undefined : b.agents.length === 1 ? b.agents[0] : undefined);
    if (!agent) return;
    const agentKey = `${agent.id}|${agent.lifecycle}`;
    if (agentKey !== s.lastAgentKey) {
      s.lastAgentKey = agentKey;
      this.frame(s, JSON.stringify({ error: null, agent_update: { lifecycle: agent.lifecycle, id: agent.id } }));
    }
  }

  /** Log followers of the agent get the lines they have not seen, as one JSON array. */
  flushLogs(agentId: string, logs: readonly { id: number }[]): void {
    for (const s of this.streams) {
      if (s.kind !== 'logs' || s.agentId !== agentId) continue;
      const fresh = logs.filter((l) => l.id > (s.logCursor ?? 0));
      if (fresh.length === 0) continue;
      s.logCursor = fresh[fresh.length - 1]!.id;
      this.frame(s, JSON.stringify(fresh));
    }
  }

  hasLogFollowers(): boolean {
    for (const s of this.streams) if (s.kind === 'logs') return true;
    return false;
  }

  dropAll(): void {
    for (const s of [...this.streams]) s.close();
    this.streams.clear();
  }

  dropOne(workspaceId: string, kind: string): void {
    const s = [...this.streams].find((x) => x.workspaceId === workspaceId && x.kind === kind);
    if (!s) return;
    this.streams.delete(s);
    s.close(1001, 'going away');
  }

  muteAll(): void {
    for (const s of this.streams) s.muted = true;
  }

  setGarbage(n: number): void {
    for (const s of this.streams) s.garbage = n;
  }

  /** Server shutdown: connection-watch gets WatchError 4 (retryable), WebSockets close 1001. */
  shutdown(): void {
    for (const s of [...this.streams]) {
      if (s.kind === 'connection-watch') {
        s.send(JSON.stringify({ error: { code: 4, retryable: true, message: 'server shutting down' } }));
        s.close(1000, 'server shutting down');
      } else if (s.kind === 'sse') s.close();
      else s.close(1001, 'server shutting down');
    }
  }

  dispose(): void {
    this.cancelPing();
    this.dropAll();
  }
}

/**
 * A tiny local HTTP + WebSocket server for tests of the client, the transports and the sync:
 * routes are plain handlers, upgrades are accepted or refused per path, requests are recorded.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';

export interface Recorded {
  method: string;
  path: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  upgrade: boolean;
}

export type Route = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;
/** Returns a status to refuse the upgrade with (0: drop the connection), or a function that receives the open socket. */
export type UpgradeRoute = (req: http.IncomingMessage) => number | ((ws: WebSocket) => void);

export class FakeServer {
  readonly requests: Recorded[] = [];
  readonly sockets = new Set<WebSocket>();
  private readonly routes = new Map<string, Route>();
  private readonly upgrades = new Map<string, UpgradeRoute>();
  private readonly server = http.createServer((req, res) => this.handle(req, res));
  private readonly wss = new WebSocketServer({ noServer: true });
  url = '';

  async listen(): Promise<this> {
    this.server.on('upgrade', (req, socket, head) => {
      const path = pathOf(req.url);
      this.requests.push({ method: 'GET', path: req.url ?? '', headers: req.headers, body: '', upgrade: true });
      const route = this.upgrades.get(path);
      const verdict = route ? route(req) : 404;
      if (verdict === 0) {
        socket.destroy();
        return;
      }
      if (typeof verdict === 'number') {
        const body = JSON.stringify({ message: `refused ${verdict}` });
        socket.end(
          `HTTP/1.1 ${verdict} Refused\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
        );
        return;
      }
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        this.sockets.add(ws);
        ws.on('close', () => this.sockets.delete(ws));
        verdict(ws);
      });
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** `GET /api/v2/users/me` style key; the query string is not part of the match. */
  on(methodAndPath: string, route: Route): this {
    this.routes.set(methodAndPath, route);
    return this;
  }

  json(methodAndPath: string, body: unknown | (() => unknown), status = 200): this {
    return this.on(methodAndPath, (_req, res) => {
      const value = typeof body === 'function' ? (body as () => unknown)() : body;
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(value));
    });
  }

  ws(path: string, route: UpgradeRoute): this {
    this.upgrades.set(path, route);
    return this;
  }

  count(methodAndPath: string): number {
    return this.requests.filter((r) => `${r.method} ${pathOf(r.path)}` === methodAndPath).length;
  }

  async close(): Promise<void> {
    for (const ws of this.sockets) ws.terminate();
    this.wss.close();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      this.requests.push({ method: req.method ?? 'GET', path: req.url ?? '', headers: req.headers, body, upgrade: false });
      const route = this.routes.get(`${req.method} ${pathOf(req.url)}`);
      if (route) return route(req, res, body);
      res.writeHead(404, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ message: 'Resource not found or you do not have access to this resource' }));
    });
  }
}

function pathOf(url: string | undefined): string {
  return (url ?? '').split('?')[0] ?? '';
}

export interface AgentSpec {
  id: string;
  name: string;
  lifecycle?: string;
  status?: string;
  parentId?: string | null;
}

export interface WorkspaceSpec {
  id: string;
  name?: string;
  owner?: string;
  transition?: string;
  status?: string;
  jobStatus?: string;
  buildNumber?: number;
  agents?: AgentSpec[];
}

/** A wire-shaped Workspace with the given agents in one resource. */
export function workspaceJson(s: WorkspaceSpec): Record<string, unknown> {
  const agents = (s.agents ?? []).map((a) => ({
    id: a.id,
    parent_id: a.parentId ?? null,
    name: a.name,
    resource_id: 'res-1',
    status: a.status ?? 'connected',
    lifecycle_state: a.lifecycle ?? 'ready',
    created_at: '2026-01-01T00:00:00Z',
    connection_timeout_seconds: 120,
    version: 'v2.30.0',
    api_version: '2.0',
    operating_system: 'linux',
    architecture: 'amd64',
    health: { healthy: true },
    scripts: [],
    logs_length: 0,
    logs_overflowed: false,
    apps: [],
  }));
  return {
    id: s.id,
    name: s.name ?? `ws-${s.id}`,
    owner_id: 'user-1',
    owner_name: s.owner ?? 'alice',
    organization_id: 'org-1',
    template_id: 'tpl-1',
    template_name: 'docker',
    template_display_name: 'Docker',
    template_icon: '',
    outdated: false,
    health: { healthy: true, failing_agents: [] },
    automatic_updates: 'never',
    favorite: false,
    latest_build: {
      id: `build-${s.id}-${s.buildNumber ?? 1}`,
      workspace_id: s.id,
      build_number: s.buildNumber ?? 1,
      transition: s.transition ?? 'start',
      status: s.status ?? 'running',
      reason: 'initiator',
      initiator_name: s.owner ?? 'alice',
      created_at: '2026-01-01T00:00:00Z',
      job: { id: 'job-1', status: s.jobStatus ?? 'succeeded', queue_position: 0 },
      resources: [
        { id: 'res-1', job_id: 'job-1', workspace_transition: 'start', type: 'docker_container', name: 'main', hide: false, agents },
      ],
      template_version_id: 'tv-1',
      template_version_name: 'v1',
    },
  };
}

export const USER_JSON = { id: 'user-1', username: 'alice', email: 'alice@example.com', name: 'Alice', status: 'active', roles: [] };

/** Resolves when `check` passes, re-checking on every call of the returned `poke`. Rejects after `ms`. */
export function until(check: () => boolean, ms = 3000, what = 'condition'): { done: Promise<void>; poke: () => void } {
  let poke = () => {};
  const done = new Promise<void>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`timed out waiting for ${what}`)), ms);
    poke = () => {
      if (check()) {
        clearTimeout(t);
        resolve();
      }
    };
    poke();
  });
  return { done, poke };
}

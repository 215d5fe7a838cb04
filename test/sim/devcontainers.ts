/**
 * Dev containers of the simulated agents (Coder v2.23+, keyed by dev-container ID since v2.25):
 * the list, the watch, recreate and delete under `/workspaceagents/{parent}/containers`. A recreate
 * turns the dev container `starting` at once; the container goes away and its injected sub-agent
 * is deleted, then the container comes back `running` with a sub-agent of the same name and
 * parent under a new ID, which connects, starts and gets ready. A template-defined sub-agent
 * (`keepsAgentId`) keeps its row and just starts again.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes, randomUUID } from 'node:crypto';
import type { WebSocket } from 'ws';
import type { SimClock } from './clock';
import { sendError, sendJson } from './http';
import { agentStatus, latestBuild, type AgentRow, type DevcontainerSpec, type WorkspaceRow } from './state';
import type { StreamHub } from './streams';
import type { World } from './world';

interface DevcontainerRecord {
  id: string;
  status: string;
  dirty: boolean;
  error?: string;
  containerId: string | undefined;
  createdAt: number;
  deleted: boolean;
}

type Stream = ReturnType<StreamHub['addWebSocket']>;

const TRANSITIONING = new Set(['starting', 'stopping', 'deleting']);

export class DevcontainerSim {
  private readonly records = new Map<string, DevcontainerRecord>();
  private readonly watches = new Map<Stream, { parentId: string; last: string | undefined }>();

  constructor(
    private readonly world: World,
    private readonly clock: SimClock,
    private readonly hub: StreamHub,
  ) {}

  /** REST under `/workspaceagents/{parent}/containers/...`; `rest` is what follows `containers`. */
  handle(req: IncomingMessage, res: ServerResponse, parent: AgentRow, rest: string[], enabled: boolean): void {
    if (!enabled) return sendError(res, 404, 'Route not found.');
    const m = req.method;
    const off = this.disabled(parent);
    if (off) return sendError(res, 403, off.message, off.detail);
    const refusal = this.notConnected(parent);
    if (m === 'GET' && rest.length === 0) {
      if (refusal) return sendError(res, 400, refusal);
      return sendJson(res, 200, this.render(parent));
    }
    if (rest[0] === 'devcontainers' && rest.length >= 2 && (m === 'POST' || m === 'DELETE')) {
      if (m === 'POST' && (rest.length !== 3 || rest[2] !== 'recreate')) return sendError(res, 404, 'Route not found.');
      if (m === 'DELETE' && rest.length !== 2) return sendError(res, 404, 'Route not found.');
      if (refusal) return sendError(res, 400, refusal);
      const found = this.specs(parent).find(({ record }) => record.id === rest[1] && !record.deleted);
      if (!found) return sendError(res, 404, 'Devcontainer not found.');
      if (TRANSITIONING.has(found.record.status)) return sendError(res, 409, 'Unable to recreate transitioning devcontainer');
      if (m === 'DELETE') {
        this.remove(parent, found.spec, found.record);
        res.writeHead(204).end();
        return;
      }
      this.recreate(parent, found.spec, found.record);
      return sendJson(res, 202, {
        message: 'Devcontainer recreation initiated',
        detail: `Recreation process for devcontainer "${found.spec.name}" has started.`,
      });
    }
    return sendError(res, 404, 'Route not found.');
  }

  /** 400 text when the parent agent is not connected (coderd refuses then), else undefined. */
  notConnected(parent: AgentRow): string | undefined {
    const status = this.world.isLatest(parent) ? agentStatus(parent, this.clock.now()) : 'disconnected';
    return status === 'connected' ? undefined : `Agent state is "${status}", it must be in the "connected" state.`;
  }

  /** 403 as the agent answers when its dev-container API is off, or when it runs inside a dev container itself. */
  disabled(parent: AgentRow): { message: string; detail: string } | undefined {
    if (parent.parentId)
      return {
        message: 'Dev Container feature not supported.',
        detail: 'Dev Container integration inside other Dev Containers is explicitly not supported.',
      };
    const spec = this.world.workspace(parent.workspaceId).agentSpecs.find((s) => s.name === parent.name);
    if (spec?.devcontainersDisabled)
      return {
        message: 'Dev Container feature not enabled.',
        detail: 'To enable this feature, set CODER_AGENT_DEVCONTAINERS_ENABLE=true in your template.',
      };
    return undefined;
  }

  /** A new containers watch (the upgrade was accepted): it sends when something changes, nothing first. */
  watch(sock: WebSocket, parent: AgentRow): void {
    const s = this.hub.addWebSocket('containers', sock, parent.workspaceId, { agentId: parent.id });
    this.watches.set(s, { parentId: parent.id, last: JSON.stringify(this.render(parent)) });
    sock.on('close', () => this.watches.delete(s));
  }

  /** Something in the workspace changed: watchers of its agents get the new answer when it differs. */
  publish(ws: WorkspaceRow): void {
    for (const [s, w] of this.watches) {
      if (s.workspaceId !== ws.id || s.muted) continue;
      const parent = this.world.agents.get(w.parentId);
      if (!parent || this.notConnected(parent)) {
        // coderd relays the agent's own stream: it ends when the agent goes away.
        this.watches.delete(s);
        s.close(1011, 'agent disconnected');
        continue;
      }
      const text = JSON.stringify(this.render(parent));
      if (text === w.last) continue;
      w.last = text;
      s.send(text);
    }
  }

  render(parent: AgentRow): { containers: unknown[]; devcontainers: unknown[]; warnings: string[] } {
    const children = latestBuild(this.world.workspace(parent.workspaceId)).agents.filter((a) => a.parentId === parent.id);
    const devcontainers: unknown[] = [];
    const containers: unknown[] = [];
    for (const { spec, record } of this.specs(parent)) {
      if (record.deleted) continue;
      const sub = spec.agent ? children.find((a) => a.name === spec.agent) : undefined;
      const container = record.containerId
        ? {
            id: record.containerId,
            created_at: new Date(record.createdAt).toISOString(),
            friendly_name: `${spec.name}_devcontainer`,
            image: 'mcr.microsoft.com/devcontainers/base:bookworm',
            labels: { 'devcontainer.local_folder': this.folder(spec), 'devcontainer.config_file': this.config(spec) },
            running: true,
            status: 'running',
            ports: [],
            volumes: {},
          }
        : undefined;
      if (container) containers.push(container);
      devcontainers.push({
        id: record.id,
        name: spec.name,
        workspace_folder: this.folder(spec),
        config_path: this.config(spec),
        status: record.status,
        dirty: record.dirty,
        ...(record.error ? { error: record.error } : {}),
        ...(container ? { container } : {}),
        ...(sub ? { agent: { id: sub.id, name: sub.name, directory: this.folder(spec) }, subagent_id: sub.id } : {}),
      });
    }
    return { containers, devcontainers, warnings: [] };
  }

  private folder(spec: DevcontainerSpec): string {
    return spec.workspaceFolder ?? `/home/coder/${spec.name}`;
  }

  private config(spec: DevcontainerSpec): string {
    return spec.configPath ?? `${this.folder(spec)}/.devcontainer/devcontainer.json`;
  }

  /** The parent's dev container specs with their state, created on first sight (one record per parent agent row). */
  private specs(parent: AgentRow): { spec: DevcontainerSpec; record: DevcontainerRecord }[] {
    const ws = this.world.workspace(parent.workspaceId);
    const specs = parent.parentId ? [] : (ws.agentSpecs.find((s) => s.name === parent.name)?.devcontainers ?? []);
    return specs.map((spec) => {
      const key = `${parent.id}\n${spec.name}`;
      let record = this.records.get(key);
      if (!record) {
        record = {
          id: randomUUID(),
          status: 'running',
          dirty: spec.dirty ?? false,
          containerId: randomBytes(32).toString('hex'),
          createdAt: this.clock.now(),
          deleted: false,
        };
        this.records.set(key, record);
      }
      return { spec, record };
    });
  }

  private subAgent(parent: AgentRow, spec: DevcontainerSpec): AgentRow | undefined {
    if (!spec.agent) return undefined;
    return latestBuild(this.world.workspace(parent.workspaceId)).agents.find((a) => a.parentId === parent.id && a.name === spec.agent);
  }

  private recreate(parent: AgentRow, spec: DevcontainerSpec, record: DevcontainerRecord): void {
    const t = this.world.timings;
    record.status = 'starting';
    record.dirty = false;
    record.error = undefined;
    record.containerId = undefined;
    this.changed(parent);
    const keeps = spec.keepsAgentId ?? false;
    this.clock.setTimer(() => {
      const sub = this.subAgent(parent, spec);
      if (sub && !keeps) this.world.removeAgent(sub.id);
      else if (sub) this.world.setAgentConnected(sub.id, false);
      this.clock.setTimer(() => {
        if (!this.world.isLatest(parent)) return;
        record.status = 'running';
        record.containerId = randomBytes(32).toString('hex');
        record.createdAt = this.clock.now();
        const childSpec = this.world
          .specsOf(this.world.workspace(parent.workspaceId))
          .find((s) => s.name === parent.name)
          ?.children?.find((c) => c.name === spec.agent);
        const kept = this.subAgent(parent, spec);
        if (kept) this.world.reinit(kept.id);
        else if (childSpec) this.world.injectSubAgent(parent.id, childSpec);
        this.changed(parent);
      }, t.runningMs);
    }, t.startingMs);
  }

  private remove(parent: AgentRow, spec: DevcontainerSpec, record: DevcontainerRecord): void {
    record.status = 'deleting';
    this.changed(parent);
    this.clock.setTimer(() => {
      const sub = this.subAgent(parent, spec);
      record.deleted = true;
      record.containerId = undefined;
      if (sub) this.world.removeAgent(sub.id);
      else this.changed(parent);
    }, this.world.timings.startingMs);
  }

  private changed(parent: AgentRow): void {
    const ws = this.world.workspaces.get(parent.workspaceId);
    if (ws) this.publish(ws);
  }
}

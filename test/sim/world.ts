/**
 * The simulation: builds that move pending -> running -> succeeded/failed, agent processes that
 * connect and report their lifecycle, and the scenarios that break them the way real deployments
 * break. Every change calls `publish(workspaceId, kind)`; the server fans it out to watchers.
 */
import { randomUUID } from 'node:crypto';
import type { SimClock } from './clock';
import {
  addLog,
  coderToken,
  latestBuild,
  newAgentRow,
  newAgentRows,
  type AgentRow,
  type AgentSpec,
  type BuildRow,
  type SimUser,
  type WorkspaceRow,
  type WorkspaceSpec,
} from './state';

export type AgentBehaviour = 'normal' | 'surviving' | 'never-connects' | 'start-error' | 'start-timeout';

export interface Timings {
  connectMs: number;
  startingMs: number;
  readyMs: number;
  pendingMs: number;
  runningMs: number;
}

export class BuildActiveError extends Error {
  constructor() {
    super('A workspace build is already active.');
  }
}

export class World {
  readonly users = new Map<string, SimUser>();
  readonly tokens = new Map<string, { user: SimUser; expired: boolean }>();
  readonly workspaces = new Map<string, WorkspaceRow>();
  readonly agents = new Map<string, AgentRow>();
  private readonly agentTimers = new Map<string, Array<() => void>>();
  private flapping = new Map<string, () => void>();

  constructor(
    private readonly clock: SimClock,
    readonly timings: Timings,
    private readonly publish: (workspaceId: string, kind: string) => void,
  ) {}

  addUser(username: string, token = coderToken()): { id: string; token: string } {
    let user = this.users.get(username);
    if (!user) {
      user = { id: randomUUID(), username, tokens: new Set() };
      this.users.set(username, user);
    }
    user.tokens.add(token);
    this.tokens.set(token, { user, expired: false });
    return { id: user.id, token };
  }

  createWorkspace(spec: WorkspaceSpec): string {
    const owner = this.users.get(spec.owner ?? 'alice') ?? this.users.get(this.addUserName(spec.owner ?? 'alice'))!;
    for (const ws of this.workspaces.values()) {
      if (ws.owner === owner && ws.name === spec.name) throw new Error(`workspace ${owner.username}/${spec.name} exists`);
    }
    const now = this.clock.now();
    const ws: WorkspaceRow = {
      id: randomUUID(),
      name: spec.name,
      owner,
      template: spec.template ?? 'docker',
      templateId: randomUUID(),
      agentSpecs: spec.agents ?? [{ name: 'main' }],
      builds: [],
      createdAt: now,
      keepsAgentProcess: spec.keepsAgentProcess === true,
    };
    this.workspaces.set(ws.id, ws);
    const build = this.newBuild(ws, 'start', now);
    build.jobStatus = 'succeeded';
    build.startedAt = now;
    build.completedAt = now;
    build.agents = newAgentRows(ws, build.resourceId, now);
    for (const a of build.agents) {
      this.agents.set(a.id, a);
      Object.assign(a, { firstConnectedAt: now, lastConnectedAt: now, alive: true, lifecycle: 'ready', startedAt: now, readyAt: now });
      addLog(a, now, 'Startup script finished');
    }
    if (spec.state === 'stopped') this.build(ws.id, 'stop', { instant: true });
    this.publish(ws.id, 'created');
    return ws.id;
  }

  private addUserName(username: string): string {
    this.addUser(username);
    return username;
  }

  workspace(id: string): WorkspaceRow {
    const ws = this.workspaces.get(id);
    if (!ws) throw new Error(`no workspace ${id}`);
    return ws;
  }

  /** Resolves an id or "name" / "owner/name". */
  findWorkspace(ref: string): WorkspaceRow | undefined {
    const direct = this.workspaces.get(ref);
    if (direct) return direct;
    const [owner, name] = ref.includes('/') ? ref.split('/', 2) : [undefined, ref];
    for (const ws of this.workspaces.values()) if (ws.name === name && (!owner || ws.owner.username === owner)) return ws;
    return undefined;
  }

  private newBuild(ws: WorkspaceRow, transition: BuildRow['transition'], now: number): BuildRow {
    const prev = ws.builds[ws.builds.length - 1];
    const b: BuildRow = {
      id: randomUUID(),
      workspaceId: ws.id,
      buildNumber: (prev?.buildNumber ?? 0) + 1,
      transition,
      jobId: randomUUID(),
      jobStatus: 'pending',
      createdAt: now,
      initiator: ws.owner.username,
      resourceId: randomUUID(),
      agents: [],
    };
    ws.builds.push(b);
    return b;
  }

  isBuildActive(ws: WorkspaceRow): boolean {
    const s = latestBuild(ws).jobStatus;
    return s === 'pending' || s === 'running';
  }

  build(
    workspaceId: string,
    transition: BuildRow['transition'],
    opts: { behaviour?: AgentBehaviour; fail?: boolean; instant?: boolean; onDone?: () => void } = {},
  ): BuildRow {
    const ws = this.workspace(workspaceId);
    if (this.isBuildActive(ws)) throw new BuildActiveError();
    const prevAgents = latestBuild(ws).agents;
    const b = this.newBuild(ws, transition, this.clock.now());
    this.publish(ws.id, 'build');
    const run = () => {
      b.jobStatus = 'running';
      b.startedAt = this.clock.now();
      if (transition !== 'start') for (const a of prevAgents) this.setLifecycleRow(a, 'shutting_down');
      this.publish(ws.id, 'build');
    };
    const finish = () => {
      const now = this.clock.now();
      b.completedAt = now;
      if (opts.fail) {
        b.jobStatus = 'failed';
        b.jobError = 'terraform apply: exit status 1';
      } else {
        b.jobStatus = 'succeeded';
        if (transition === 'start') {
          for (const a of prevAgents) this.retire(a, now);
          b.agents = newAgentRows(ws, b.resourceId, now);
          for (const a of b.agents) {
            this.agents.set(a.id, a);
            const behaviour = opts.behaviour ?? 'normal';
            this.runAgent(a, ws.keepsAgentProcess && behaviour === 'normal' ? 'surviving' : behaviour);
          }
        } else {
          for (const a of prevAgents) this.retire(a, now, 'off');
        }
      }
      this.publish(ws.id, 'build');
      opts.onDone?.();
    };
    if (opts.instant) {
      run();
      finish();
    } else {
      this.clock.setTimer(() => {
        run();
        this.clock.setTimer(finish, this.timings.runningMs);
      }, this.timings.pendingMs);
    }
    return b;
  }

  /** An agent process of a build that is no longer the latest: it stops and disconnects. */
  private retire(a: AgentRow, now: number, lifecycle?: string): void {
    this.cancelAgentTimers(a.id);
    if (lifecycle) a.lifecycle = lifecycle;
    if (a.alive) {
      a.alive = false;
      a.lastConnectedAt = now;
      a.disconnectedAt = now;
    }
    a.updatedAt = now;
  }

  private later(agentId: string, ms: number, fn: () => void): void {
    const cancel = this.clock.setTimer(fn, ms);
    const list = this.agentTimers.get(agentId) ?? [];
    list.push(cancel);
    this.agentTimers.set(agentId, list);
  }

  private cancelAgentTimers(agentId: string): void {
    for (const cancel of this.agentTimers.get(agentId) ?? []) cancel();
    this.agentTimers.delete(agentId);
  }

  /** The agent process after a start build: connect, then report its lifecycle (or not). */
  private runAgent(a: AgentRow, behaviour: AgentBehaviour): void {
    const t = this.timings;
    if (behaviour === 'never-connects') {
      // coderd schedules an event at created_at + timeout so that watchers see `timeout`.
      this.later(a.id, a.connectionTimeoutSeconds * 1000 + 1, () => this.publish(a.workspaceId, 'agent-timeout'));
      return;
    }
    this.later(a.id, t.connectMs, () => {
      this.connect(a);
      if (behaviour === 'surviving') return; // the old process attached to the new row: no lifecycle report
      this.later(a.id, t.startingMs, () => this.startLifecycle(a, behaviour));
    });
  }

  private connect(a: AgentRow): void {
    const now = this.clock.now();
    a.firstConnectedAt ??= now;
    a.lastConnectedAt = now;
    a.disconnectedAt = undefined;
    a.alive = true;
    a.updatedAt = now;
    this.publish(a.workspaceId, 'agent-connection');
  }

  /** starting -> ready (or the failure the behaviour asks for). */
  private startLifecycle(a: AgentRow, behaviour: AgentBehaviour): void {
    this.setLifecycleRow(a, 'starting');
    addLog(a, this.clock.now(), 'Running startup script...');
    this.publish(a.workspaceId, 'lifecycle');
    this.later(a.id, this.timings.readyMs, () => {
      const end = behaviour === 'start-error' ? 'start_error' : behaviour === 'start-timeout' ? 'start_timeout' : 'ready';
      if (end === 'start_error') {
        a.healthReason = 'startup script exited with code 1';
        addLog(a, this.clock.now(), 'startup script exited with code 1', 'error');
      } else {
        addLog(
          a,
          this.clock.now(),
          end === 'ready' ? 'Startup script finished' : 'Startup script timed out',
          end === 'ready' ? 'info' : 'warn',
        );
      }
      this.setLifecycleRow(a, end);
      this.publish(a.workspaceId, 'lifecycle');
    });
  }

  /** What coderd does when an agent reports a lifecycle state (started_at/ready_at rules). */
  private setLifecycleRow(a: AgentRow, state: string): void {
    const now = this.clock.now();
    a.lifecycle = state;
    a.updatedAt = now;
    if (state === 'starting') {
      a.startedAt = now;
      a.readyAt = undefined;
    }
    if (state === 'ready' || state === 'start_timeout' || state === 'start_error') a.readyAt = now;
  }

  setLifecycle(agentId: string, state: string): void {
    const a = this.agent(agentId);
    this.setLifecycleRow(a, state);
    this.publish(a.workspaceId, 'lifecycle');
  }

  setAgentConnected(agentId: string, connected: boolean): void {
    const a = this.agent(agentId);
    if (connected) this.connect(a);
    else {
      const now = this.clock.now();
      a.alive = false;
      a.lastConnectedAt = now;
      a.disconnectedAt = now;
      a.updatedAt = now;
      this.publish(a.workspaceId, 'agent-connection');
    }
  }

  agent(agentId: string): AgentRow {
    const a = this.agents.get(agentId);
    if (!a) throw new Error(`no agent ${agentId}`);
    return a;
  }

  isLatest(a: AgentRow): boolean {
    const ws = this.workspaces.get(a.workspaceId);
    return !!ws && latestBuild(ws).agents.includes(a);
  }

  /** Non-standard operation: the agent re-reports starting, then ready. */
  replay(agentId: string): void {
    const a = this.agent(agentId);
    this.cancelAgentTimers(a.id);
    this.startLifecycle(a, 'normal');
  }

  /** Non-standard operation: the agent restarts itself and runs its startup again. */
  reinit(agentId: string): void {
    const a = this.agent(agentId);
    this.cancelAgentTimers(a.id);
    a.healthReason = undefined;
    addLog(a, this.clock.now(), 'Agent reinitializing');
    this.later(a.id, this.timings.startingMs, () => {
      this.connect(a);
      this.startLifecycle(a, 'normal');
    });
  }

  /** A sub-agent leaves the latest build (its parent agent deleted it, e.g. for a dev-container rebuild). */
  removeAgent(agentId: string): void {
    const a = this.agent(agentId);
    const b = latestBuild(this.workspace(a.workspaceId));
    this.retire(a, this.clock.now(), 'off');
    b.agents = b.agents.filter((x) => x !== a);
    this.publish(a.workspaceId, 'agent-deleted');
  }

  /** A sub-agent the parent agent creates itself: a new row (new ID) in the latest build, which then starts. */
  injectSubAgent(parentId: string, spec: AgentSpec): AgentRow {
    const parent = this.agent(parentId);
    const ws = this.workspace(parent.workspaceId);
    const b = latestBuild(ws);
    const row = newAgentRow(ws, spec, parentId, b.resourceId, this.clock.now());
    b.agents = [...b.agents, row];
    this.agents.set(row.id, row);
    this.publish(ws.id, 'agent-created');
    this.runAgent(row, 'normal');
    return row;
  }

  startFlapping(workspaceId: string, intervalMs: number): void {
    this.stopFlapping(workspaceId);
    let cancel = () => {};
    const tick = () => {
      const ws = this.workspace(workspaceId);
      if (!this.isBuildActive(ws)) this.build(workspaceId, 'start', { instant: true });
      cancel = this.clock.setTimer(tick, intervalMs);
    };
    cancel = this.clock.setTimer(tick, intervalMs);
    this.flapping.set(workspaceId, () => cancel());
  }

  stopFlapping(workspaceId: string): void {
    this.flapping.get(workspaceId)?.();
    this.flapping.delete(workspaceId);
  }

  /** A restart is a stop build followed by a start build. */
  restart(workspaceId: string, behaviour: AgentBehaviour = 'normal'): void {
    this.build(workspaceId, 'stop', { onDone: () => this.build(workspaceId, 'start', { behaviour }) });
  }

  dispose(): void {
    for (const id of [...this.agentTimers.keys()]) this.cancelAgentTimers(id);
    for (const id of [...this.flapping.keys()]) this.stopFlapping(id);
  }

  specsOf(ws: WorkspaceRow): AgentSpec[] {
    return ws.agentSpecs;
  }
}

/**
 * One deployment's workspaces and agents: the single source of truth for the UI.
 *
 * apply(event) folds what the data sources heard into the state and returns only what
 * changed. It never throws and never does I/O; time comes from the events (and the clock for
 * readers). Agents are indexed by id so that an event costs O(agents of that workspace), not
 * O(fleet): the fleet takes thousands of events per second over thousands of workspaces.
 */
import { agentsOf, type ConnectionWatchEvent, type Workspace, type WorkspaceAgent } from '../api/schemas';
import { findByKey, keyOfAgent, parentNameAmong, sameAgent } from './agentKey';
import { deriveWorkspaceStatus, stuckStart } from './lifecycle';
import { agentFingerprint, keepNewerAgents, withAgent, workspaceFingerprint } from './rows';
import { replacementAgent } from './pushedRow';
import type { Change, ConnectionState, FleetEvent, FleetRung, StreamRung } from './types';

const TIMELINE_CAP = 50;

export interface TimelineEntry {
  state: string;
  at: number;
}

interface WorkspaceEntry {
  ws: Workspace;
  fingerprint: string;
  agentPrints: Map<string, string>;
}

/** An event the model could not fold. */
export class FleetRejection extends Error {
  /** The event's kind, as far as it has one (for the rate-limited log line). */
  readonly eventKind: string;

  constructor(event: unknown, reason: string) {
    const kind = (event as { kind?: unknown } | null)?.kind;
    const eventKind = typeof kind === 'string' ? kind : 'unknown';
    super(`cannot apply a ${eventKind} event: ${reason}`);
    this.name = 'FleetRejection';
    this.eventKind = eventKind;
  }
}

export interface FleetOptions {
  deploymentUrl: string;
  myUsername?: string;
  /** The deployment's clock minus the local one (api/serverClock.ts): server timestamps are read through it. */
  serverSkewMs?: () => number;
}

function sameConnection(a: ConnectionState, b: ConnectionState): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === 'offline' && b.kind === 'offline') return a.error === b.error;
  if (a.kind === 'signed-out' && b.kind === 'signed-out') return a.error === b.error;
  return true;
}

export class Fleet {
  readonly deploymentUrl: string;
  readonly myUsername: string | undefined;
  private readonly entries = new Map<string, WorkspaceEntry>();
  private readonly agentIndex = new Map<string, { workspaceId: string; agent: WorkspaceAgent }>();
  private readonly heard = new Map<string, number>();
  private readonly rungs = new Map<string, StreamRung>();
  private readonly timelines = new Map<string, TimelineEntry[]>();
  /** Workspaces whose build was patched by a connection-watch frame and not yet re-read whole. */
  private readonly partial = new Set<string>();
  private conn: ConnectionState = { kind: 'idle' };
  private fleetServedBy: { rung: FleetRung; reason: string } | undefined;
  /** When this model first saw each agent's stuck signature (bounds the server's timestamp, see stuckStart). */
  private readonly stuckSeen = new Map<string, number>();
  private readonly skew: (() => number) | undefined;

  constructor(opts: FleetOptions) {
    this.deploymentUrl = opts.deploymentUrl;
    this.myUsername = opts.myUsername;
    this.skew = opts.serverSkewMs;
  }

  // ---- readers ------------------------------------------------------------------------------

  get connection(): ConnectionState {
    return this.conn;
  }

  /** Which rung serves the list of workspaces and why; undefined before the sync said. */
  get fleetRung(): { rung: FleetRung; reason: string } | undefined {
    return this.fleetServedBy;
  }

  /**
   * True when the workspace has a stream of its own; otherwise what is shown of its agents'
   * lifecycle is as old as `lastHeard` (the push carries no lifecycle).
   */
  isLive(workspaceId: string): boolean {
    const r = this.rungs.get(workspaceId);
    return r !== undefined && r !== 'poll';
  }

  /** Milliseconds since the last read of a workspace without a stream; undefined for a live one. */
  unstreamedAge(workspaceId: string, now: number): number | undefined {
    const heard = this.heard.get(workspaceId);
    if (this.isLive(workspaceId) || heard === undefined) return undefined;
    return Math.max(0, now - heard);
  }

  get size(): number {
    return this.entries.size;
  }

  /** Workspaces sorted by owner, then name. */
  workspaces(): Workspace[] {
    return [...this.entries.values()]
      .map((e) => e.ws)
      .sort((a, b) => a.owner_name.localeCompare(b.owner_name) || a.name.localeCompare(b.name));
  }

  workspace(id: string): Workspace | undefined {
    return this.entries.get(id)?.ws;
  }

  /** Every agent of the latest build, sub-agents included. */
  agentsOf(workspaceId: string): WorkspaceAgent[] {
    const ws = this.workspace(workspaceId);
    return ws ? agentsOf(ws) : [];
  }

  topLevelAgents(workspaceId: string): WorkspaceAgent[] {
    return this.agentsOf(workspaceId).filter((a) => !a.parent_id);
  }

  childrenOf(workspaceId: string, parentAgentId: string): WorkspaceAgent[] {
    return this.agentsOf(workspaceId).filter((a) => a.parent_id === parentAgentId);
  }

  parentNameOf(workspaceId: string, agent: WorkspaceAgent): string | null {
    return parentNameAmong(this.agentsOf(workspaceId), agent);
  }

  /** An agent of the latest build by name and parent name (null: a top-level agent). */
  findAgent(workspaceId: string, name: string, parentName: string | null): WorkspaceAgent | undefined {
    return findByKey(this.agentsOf(workspaceId), { workspaceId, name, parentName });
  }

  agentById(agentId: string): { workspace: Workspace; agent: WorkspaceAgent } | undefined {
    const hit = this.agentIndex.get(agentId);
    const ws = hit && this.workspace(hit.workspaceId);
    return hit && ws ? { workspace: ws, agent: hit.agent } : undefined;
  }

  /** Clock time at which data about the workspace last arrived. */
  lastHeard(workspaceId: string): number | undefined {
    return this.heard.get(workspaceId);
  }

  rung(workspaceId: string): StreamRung | undefined {
    return this.rungs.get(workspaceId);
  }

  /** Each lifecycle state the model saw for the agent, with when it saw it. */
  lifecycleTimeline(agentId: string): readonly TimelineEntry[] {
    return this.timelines.get(agentId) ?? [];
  }

  /** First time the model saw the agent connected with lifecycle `created`; cleared when that ends. */
  /** When the agent's stuck signature (connected, lifecycle `created`) started, on the local clock; undefined without it. */
  stuckSince(agentId: string): number | undefined {
    const a = this.agentIndex.get(agentId)?.agent;
    if (a?.status !== 'connected' || a.lifecycle_state !== 'created') return undefined;
    return stuckStart(a, this.serverSkewMs(), this.stuckSeen.get(agentId));
  }

  /** The deployment's clock minus the local one, in ms (0 when within the Date header's resolution or unknown). */
  serverSkewMs(): number {
    return this.skew?.() ?? 0;
  }

  /**
   * True while the latest build is only known from a connection-watch build_update: its
   * transition and job status are current, its resources (agents) may not be yet.
   */
  isPartial(workspaceId: string): boolean {
    return this.partial.has(workspaceId);
  }

  /** True when the workspace belongs to someone else than the signed-in user. */
  isForeign(ws: Workspace): boolean {
    return this.myUsername !== undefined && ws.owner_name !== this.myUsername;
  }

  // ---- apply ----------------------------------------------------------------------------------

  /**
   * Folds one event into the model. Throws a FleetRejection for an event it cannot fold (a shape
   * the schemas let through, an unknown kind): the caller logs it and goes on; the event is dropped.
   */
  apply(e: FleetEvent): Change[] {
    try {
      return this.applyUnsafe(e);
    } catch (err) {
      if (err instanceof FleetRejection) throw err;
      throw new FleetRejection(e, err instanceof Error ? err.message : String(err));
    }
  }

  private applyUnsafe(e: FleetEvent): Change[] {
    switch (e.kind) {
      case 'workspaces': {
        const changes: Change[] = [];
        const seen = new Set<string>();
        for (const ws of e.workspaces) {
          seen.add(ws.id);
          changes.push(...this.upsert(ws, e.at));
        }
        for (const id of [...this.entries.keys()]) {
          if (!seen.has(id)) changes.push(...this.remove(id));
        }
        return changes;
      }
      case 'workspace':
        return this.upsert(e.workspace, e.at);
      case 'pushed':
        return this.pushed(e.workspace, e.replaced, e.at);
      case 'workspace-removed':
        return this.remove(e.workspaceId);
      case 'agent':
        return this.patchAgent(e.workspaceId, e.agent, e.at);
      case 'connection-watch':
        return this.connectionWatch(e.workspaceId, e.agentName, e.event, e.at);
      case 'connection': {
        if (sameConnection(this.conn, e.state)) return [];
        this.conn = e.state;
        return [{ kind: 'connection-changed', state: e.state }];
      }
      case 'rung': {
        // Kept even before the workspace itself arrives: the stream may open first.
        const wasLive = this.isLive(e.workspaceId);
        this.rungs.set(e.workspaceId, e.rung);
        // Rows show whether their lifecycle is live or as old as the last read: a flip changes the workspace.
        if (wasLive === this.isLive(e.workspaceId) || !this.entries.has(e.workspaceId)) return [];
        return [{ kind: 'workspace-changed', workspaceId: e.workspaceId, buildChanged: false }];
      }
      case 'fleet-rung': {
        const was = this.fleetServedBy;
        if (was?.rung === e.rung && was.reason === e.reason) return [];
        this.fleetServedBy = { rung: e.rung, reason: e.reason };
        return [{ kind: 'fleet-rung-changed', rung: e.rung, reason: e.reason }];
      }
      default:
        throw new FleetRejection(e, 'unknown event kind');
    }
  }

  /** `whole`: a full row (REST, a stream); else one patched with the push's facts, as old as the last full one. */
  private upsert(incoming: Workspace, at: number, whole = true): Change[] {
    const old = this.entries.get(incoming.id);
    if (old && incoming.latest_build.build_number < old.ws.latest_build.build_number) return []; // stale
    const ws = old ? keepNewerAgents(old.ws, incoming) : incoming;
    const fingerprint = workspaceFingerprint(ws);
    const agents = agentsOf(ws);
    const agentPrints = new Map(agents.map((a) => [a.id, agentFingerprint(a)]));
    this.entries.set(ws.id, { ws, fingerprint, agentPrints });
    if (whole) {
      this.heard.set(ws.id, at);
      this.partial.delete(ws.id);
    } else this.partial.add(ws.id);

    if (!old) {
      for (const a of agents) this.indexAgent(ws.id, a, at);
      return [{ kind: 'workspace-added', workspaceId: ws.id }];
    }
    const changes: Change[] = [];
    if (old.fingerprint !== fingerprint) {
      const ob = old.ws.latest_build;
      const nb = ws.latest_build;
      const buildChanged = ob.id !== nb.id || ob.job.status !== nb.job.status || ob.transition !== nb.transition;
      changes.push({ kind: 'workspace-changed', workspaceId: ws.id, buildChanged });
    }
    changes.push(...this.idChanges(old.ws, ws));
    const oldAgents = agentsOf(old.ws);
    for (const a of agents) {
      const print = agentPrints.get(a.id);
      if (old.agentPrints.get(a.id) !== print) changes.push({ kind: 'agent-changed', workspaceId: ws.id, agentId: a.id });
      this.indexAgent(ws.id, a, at);
    }
    for (const a of oldAgents) {
      if (!agentPrints.has(a.id)) this.forgetAgent(a.id);
    }
    return changes;
  }

  /**
   * A row patched with the fleet push's facts (model/pushedRow.ts): status and agent IDs are
   * current, the rest is as old as the last read (so `lastHeard` stays), and the build is partial
   * like one patched by connection-watch. `replaced` names the agents that took another's place,
   * across messages: the row alone cannot tell, its old agents left it at the stop.
   */
  private pushed(ws: Workspace, replaced: readonly { old: WorkspaceAgent; agent: WorkspaceAgent }[], at: number): Change[] {
    const old = this.entries.get(ws.id);
    if (!old) return [];
    const changes = this.upsert(ws, at, false);
    const removedAgents = agentsOf(old.ws).some((a) => !this.agentIndex.has(a.id));
    if (removedAgents && !changes.some((c) => c.kind === 'workspace-changed'))
      changes.push({ kind: 'workspace-changed', workspaceId: ws.id, buildChanged: false });
    const agents = agentsOf(ws);
    for (const r of replaced) {
      if (changes.some((c) => c.kind === 'agent-id-changed' && c.newId === r.agent.id)) continue;
      changes.push({
        kind: 'agent-id-changed',
        workspaceId: ws.id,
        agentName: r.agent.name,
        parentName: parentNameAmong(agents, r.agent) ?? parentNameAmong(agentsOf(old.ws), r.old),
        oldId: r.old.id,
        newId: r.agent.id,
        buildNumber: ws.latest_build.build_number,
      });
    }
    return changes;
  }

  /** Same name and parent name, another id, in a build at least as new: the agent was replaced. */
  private idChanges(oldWs: Workspace, ws: Workspace): Change[] {
    const oldAgents = agentsOf(oldWs);
    const newAgents = agentsOf(ws);
    const changes: Change[] = [];
    for (const a of newAgents) {
      const key = keyOfAgent(ws.id, newAgents, a);
      const parentName = key.parentName;
      const prev = oldAgents.find((o) => sameAgent(keyOfAgent(ws.id, oldAgents, o), key));
      if (prev && prev.id !== a.id) {
        changes.push({
          kind: 'agent-id-changed',
          workspaceId: ws.id,
          agentName: a.name,
          parentName,
          oldId: prev.id,
          newId: a.id,
          buildNumber: ws.latest_build.build_number,
        });
      }
    }
    return changes;
  }

  private remove(id: string): Change[] {
    const old = this.entries.get(id);
    if (!old) return [];
    for (const a of agentsOf(old.ws)) this.forgetAgent(a.id);
    this.entries.delete(id);
    this.heard.delete(id);
    this.rungs.delete(id);
    this.partial.delete(id);
    return [{ kind: 'workspace-removed', workspaceId: id }];
  }

  private patchAgent(workspaceId: string, agent: WorkspaceAgent, at: number): Change[] {
    const entry = this.entries.get(workspaceId);
    if (!entry) return [];
    this.heard.set(workspaceId, at);
    if (!agentsOf(entry.ws).some((a) => a.id === agent.id)) return []; // an old build's row: history, not state
    entry.ws = withAgent(entry.ws, agent.id, agent);
    const print = agentFingerprint(agent);
    const changed = entry.agentPrints.get(agent.id) !== print;
    entry.agentPrints.set(agent.id, print);
    this.indexAgent(workspaceId, agent, at);
    return changed ? [{ kind: 'agent-changed', workspaceId, agentId: agent.id }] : [];
  }

  /** agent-connection-watch frames are partial: patch what they say, let a REST read fill the rest. */
  private connectionWatch(workspaceId: string, agentName: string, ev: ConnectionWatchEvent, at: number): Change[] {
    const entry = this.entries.get(workspaceId);
    if (!entry) return [];
    this.heard.set(workspaceId, at);
    const changes: Change[] = [];
    const b = entry.ws.latest_build;
    const buildNumber = b.build_number;
    if (ev.build_update && (ev.build_update.transition !== b.transition || ev.build_update.job_status !== b.job.status)) {
      const { transition, job_status } = ev.build_update;
      entry.ws = {
        ...entry.ws,
        latest_build: { ...b, transition, status: deriveWorkspaceStatus(transition, job_status), job: { ...b.job, status: job_status } },
      };
      entry.fingerprint = workspaceFingerprint(entry.ws);
      this.partial.add(workspaceId);
      changes.push({ kind: 'workspace-changed', workspaceId, buildChanged: true });
    }
    const upd = ev.agent_update;
    if (upd) {
      const agents = agentsOf(entry.ws);
      const current = agents.find((a) => a.name === agentName);
      if (!current) return changes;
      if (current.id !== upd.id) {
        const placeholder = replacementAgent(current, upd.id, upd.lifecycle, new Date(at + this.serverSkewMs()).toISOString());
        this.forgetAgent(current.id);
        this.replaceRow(entry, current.id, placeholder, at);
        changes.push({
          kind: 'agent-id-changed',
          workspaceId,
          agentName,
          parentName: parentNameAmong(agents, current),
          oldId: current.id,
          newId: upd.id,
          buildNumber,
        });
        changes.push({ kind: 'agent-changed', workspaceId, agentId: upd.id });
      } else if (current.lifecycle_state !== upd.lifecycle) {
        this.replaceRow(entry, current.id, { ...current, lifecycle_state: upd.lifecycle }, at);
        changes.push({ kind: 'agent-changed', workspaceId, agentId: current.id });
      }
    }
    return changes;
  }

  private replaceRow(entry: WorkspaceEntry, oldId: string, agent: WorkspaceAgent, at: number): void {
    entry.ws = withAgent(entry.ws, oldId, agent);
    entry.agentPrints.delete(oldId);
    entry.agentPrints.set(agent.id, agentFingerprint(agent));
    this.indexAgent(entry.ws.id, agent, at);
  }

  private indexAgent(workspaceId: string, agent: WorkspaceAgent, at: number): void {
    this.agentIndex.set(agent.id, { workspaceId, agent });
    const timeline = this.timelines.get(agent.id);
    if (!timeline) this.timelines.set(agent.id, [{ state: agent.lifecycle_state, at }]);
    else if (timeline[timeline.length - 1]?.state !== agent.lifecycle_state) {
      timeline.push({ state: agent.lifecycle_state, at });
      if (timeline.length > TIMELINE_CAP) timeline.splice(0, timeline.length - TIMELINE_CAP);
    }
    if (agent.status === 'connected' && agent.lifecycle_state === 'created') {
      if (!this.stuckSeen.has(agent.id)) this.stuckSeen.set(agent.id, at);
    } else {
      this.stuckSeen.delete(agent.id);
    }
  }

  private forgetAgent(agentId: string): void {
    this.agentIndex.delete(agentId);
    this.timelines.delete(agentId);
    this.stuckSeen.delete(agentId);
  }
}

/**
 * The push's view of the owner's fleet (which workspaces, their status, their agents' IDs) and
 * the pure decisions that compare it with the model's rows: which workspaces differ (to patch,
 * or to read when the model has no row), which to remove, and which agents were replaced (an
 * old and a new ID under one name).
 */
import { agentsOf, type Workspace } from '../api/schemas';
import type { Change } from '../model/types';
import type { FleetUpdate, PushedWorkspace } from './fleetPushSource';

/** An agent deleted and another upserted under the same name in the same workspace. */
export interface AgentPairing {
  workspaceId: string;
  name: string;
  oldId: string;
  newId: string;
}

/** What an update changed in the pushed view. */
export interface PushedChange {
  /** Workspaces upserted, or whose agents were upserted or deleted. */
  touched: Set<string>;
  deleted: string[];
  pairings: AgentPairing[];
}

export class PushedFleet {
  private readonly workspaces = new Map<string, PushedWorkspace>();
  /** workspace -> agent id -> agent name */
  private readonly agents = new Map<string, Map<string, string>>();
  /**
   * workspace -> agent name -> ID of the agent deleted under it. The deletion and the upsert of
   * a rebuild arrive in different messages (a stop build apart), possibly across a reconnect.
   */
  private readonly gone = new Map<string, Map<string, string>>();

  has(id: string): boolean {
    return this.workspaces.has(id);
  }

  ids(): string[] {
    return [...this.workspaces.keys()];
  }

  status(id: string): string | undefined {
    return this.workspaces.get(id)?.status;
  }

  agentIds(id: string): Set<string> {
    return new Set(this.agents.get(id)?.keys());
  }

  agentsOf(id: string): { id: string; name: string }[] {
    return [...(this.agents.get(id) ?? [])].map(([agentId, name]) => ({ id: agentId, name }));
  }

  apply(u: FleetUpdate): PushedChange {
    return u.snapshot ? this.replace(u) : this.patch(u);
  }

  private replace(u: FleetUpdate): PushedChange {
    const before = new Map([...this.agents].map(([ws, m]) => [ws, new Map(m)] as const));
    this.workspaces.clear();
    this.agents.clear();
    for (const w of u.upsertedWorkspaces) this.workspaces.set(w.id, w);
    for (const [ws, m] of before) {
      if (!this.workspaces.has(ws)) {
        this.gone.delete(ws);
        continue;
      }
      for (const [id, name] of m) this.forget(ws, id, name);
    }
    for (const g of [...this.gone.keys()]) if (!this.workspaces.has(g)) this.gone.delete(g);
    const pairings: AgentPairing[] = [];
    for (const a of u.upsertedAgents) this.add(a.workspaceId, a.id, a.name, pairings);
    return { touched: new Set(this.workspaces.keys()), deleted: [], pairings };
  }

  private patch(u: FleetUpdate): PushedChange {
    const touched = new Set<string>();
    const pairings: AgentPairing[] = [];
    for (const w of u.upsertedWorkspaces) {
      this.workspaces.set(w.id, w);
      touched.add(w.id);
    }
    for (const a of u.deletedAgents) {
      this.agents.get(a.workspaceId)?.delete(a.id);
      this.forget(a.workspaceId, a.id, a.name);
      touched.add(a.workspaceId);
    }
    for (const a of u.upsertedAgents) {
      this.add(a.workspaceId, a.id, a.name, pairings);
      touched.add(a.workspaceId);
    }
    const deleted: string[] = [];
    for (const w of u.deletedWorkspaces) {
      this.workspaces.delete(w.id);
      this.agents.delete(w.id);
      this.gone.delete(w.id);
      touched.delete(w.id);
      deleted.push(w.id);
    }
    return { touched, deleted, pairings };
  }

  /** Remembers a deleted agent's ID under its name, unless an agent of that name is still there. */
  private forget(ws: string, id: string, name: string): void {
    const left = this.agents.get(ws);
    if (left && [...left.values()].includes(name)) return;
    let g = this.gone.get(ws);
    if (!g) this.gone.set(ws, (g = new Map<string, string>()));
    g.set(name, id);
  }

  private add(ws: string, id: string, name: string, pairings: AgentPairing[]): void {
    let m = this.agents.get(ws);
    if (!m) this.agents.set(ws, (m = new Map<string, string>()));
    m.set(id, name);
    const g = this.gone.get(ws);
    const oldId = g?.get(name);
    if (oldId === undefined) return;
    g!.delete(name);
    if (oldId !== id) pairings.push({ workspaceId: ws, name, oldId, newId: id });
  }
}

/** The model side, as the decisions need it. */
export interface ModelView {
  rows: ReadonlyMap<string, Workspace>;
  myUserId: string;
  bound: string | undefined;
  /** The workspace has a live stream of its own (the push need not read it). */
  isStreamed(id: string): boolean;
  /** The push speaks for the whole list (the default filter): it may add workspaces. */
  coversList: boolean;
}

export interface Reconciliation {
  /** Workspaces the push says more about than the model holds (or that the model lacks). */
  differing: string[];
  remove: string[];
}

/** Status or agent IDs differ between the model's row and the push. */
export function differs(row: Workspace, pushed: PushedFleet): boolean {
  if (row.latest_build.status !== pushed.status(row.id)) return true;
  const want = pushed.agentIds(row.id);
  const have = agentsOf(row).map((a) => a.id);
  return have.length !== want.size || have.some((id) => !want.has(id));
}

/** Agents the push lists that the row lacks. */
export function arrived(row: Workspace, pushed: PushedFleet): string[] {
  const have = new Set(agentsOf(row).map((a) => a.id));
  return [...pushed.agentIds(row.id)].filter((id) => !have.has(id));
}

/**
 * After a (re)connect: what differs or is new, and the owner's workspaces the snapshot no longer
 * has (to remove). Another owner's workspace (a bound one outside the filter) is not the push's
 * to remove.
 */
export function reconcileSnapshot(pushed: PushedFleet, m: ModelView): Reconciliation {
  const differing = pushed.ids().filter((id) => needsFolding(id, pushed, m));
  const remove = [...m.rows.values()].filter((w) => w.owner_id === m.myUserId && !pushed.has(w.id)).map((w) => w.id);
  return { differing, remove };
}

/** After a pushed change: the touched workspaces that differ, and the deleted ones to remove. */
export function reconcileChange(change: PushedChange, pushed: PushedFleet, m: ModelView): Reconciliation {
  const differing = [...change.touched].filter((id) => needsFolding(id, pushed, m));
  const remove = change.deleted.filter((id) => {
    const row = m.rows.get(id);
    return row !== undefined && !(id === m.bound && row.owner_id !== m.myUserId);
  });
  return { differing, remove };
}

/** A workspace without a stream whose row differs, or one the model lacks where the push speaks for the list. */
function needsFolding(id: string, pushed: PushedFleet, m: ModelView): boolean {
  const row = m.rows.get(id);
  if (!row) return m.coversList;
  return !m.isStreamed(id) && differs(row, pushed);
}

/**
 * Turns pairings into agent-ID changes once a REST row names the new agent (its parent comes
 * from the row: the push carries none). A pairing the model already reported is dropped; one
 * whose new agent the row does not have yet waits for the next read.
 */
export function completePairings(
  pairings: readonly AgentPairing[],
  ws: Workspace,
  reported: readonly Change[],
): { changes: Change[]; waiting: AgentPairing[] } {
  const agents = agentsOf(ws);
  const changes: Change[] = [];
  const waiting: AgentPairing[] = [];
  for (const p of pairings) {
    const agent = agents.find((a) => a.id === p.newId);
    if (!agent) {
      waiting.push(p);
      continue;
    }
    if (reported.some((c) => c.kind === 'agent-id-changed' && c.newId === p.newId)) continue;
    const parent = agent.parent_id ? agents.find((a) => a.id === agent.parent_id) : undefined;
    changes.push({
      kind: 'agent-id-changed',
      workspaceId: ws.id,
      agentName: p.name,
      parentName: parent?.name ?? null,
      oldId: p.oldId,
      newId: p.newId,
      buildNumber: ws.latest_build.build_number,
    });
  }
  return { changes, waiting };
}

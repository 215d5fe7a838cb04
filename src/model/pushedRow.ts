/**
 * The fleet push's facts about a workspace (its status, its agents' IDs and names) folded into
 * the REST row the model holds, for a workspace that has no stream of its own. Which workspaces
 * exist, their status and their agents' IDs are then as fresh as the push without a REST read;
 * what the push does not carry (lifecycle, versions, build number, apps) stays as last read. An
 * agent that replaces another starts the way Coder creates one (lifecycle `created`, status
 * `connecting`) from the row of the agent it replaces: the push carries no parent, no OS, no
 * directory, and a rebuild keeps those.
 */
import { agentsOf, type Workspace, type WorkspaceAgent, type WorkspaceBuild } from '../api/schemas';

/** An agent the push deleted and another it upserted under the same name (sync/fleetReconcile.ts pairs them). */
export interface PushedReplacement {
  oldId: string;
  newId: string;
}

export interface PushedFacts {
  /** REST status name (`running`, ...); anything else (`unknown:<n>`) leaves the build as it is. */
  status: string;
  /** When the push said it, in server time (ISO): the creation time of the agents it places. */
  heardAt: string;
  agents: readonly { id: string; name: string }[];
  replaced: readonly PushedReplacement[];
}

/**
 * Rows of agents the push took away (a stop deletes them, the start that follows upserts their
 * successors, a message or more later): the templates of the agents that replace them. Kept per
 * workspace by whoever patches its rows, until a REST read of the workspace or of the list.
 */
export class DepartedAgents {
  private readonly rows = new Map<string, WorkspaceAgent>();
  /** old ID -> new ID, so that a sub-agent placed after its parent points at the parent's new ID. */
  private readonly successors = new Map<string, string>();

  get size(): number {
    return this.rows.size;
  }

  keep(a: WorkspaceAgent): void {
    this.rows.set(a.id, a);
  }

  take(oldId: string): WorkspaceAgent | undefined {
    const a = this.rows.get(oldId);
    this.rows.delete(oldId);
    return a;
  }

  /**
   * The one departed agent of this name, taken: for a successor the push paired with nothing
   * (the push's first snapshot came mid-rebuild, after the old agent was already gone from it).
   */
  takeByName(name: string): WorkspaceAgent | undefined {
    const named = [...this.rows.values()].filter((a) => a.name === name);
    return named.length === 1 ? this.take(named[0]!.id) : undefined;
  }

  succeeded(oldId: string, newId: string): void {
    this.successors.set(oldId, newId);
  }

  successor(oldId: string): string | undefined {
    return this.successors.get(oldId);
  }
}

export interface PatchedRow {
  ws: Workspace;
  /** Agents placed under a new ID, with the row they were made from. */
  placed: { old: WorkspaceAgent; agent: WorkspaceAgent }[];
  removed: WorkspaceAgent[];
  /** Pushed agent IDs the row could not take (no agent to replace): only a REST read shows them. */
  unplaced: string[];
}

/**
 * The agent that replaces `old` under `newId`, as the server creates it: never connected, no
 * lifecycle yet beyond `lifecycle`, created when it was heard of (`createdAt`, server time: the
 * old row's would read as an agent that has waited for hours to connect). Everything a rebuild
 * keeps (name, parent, OS, directory, apps) comes from the old row until a REST read brings the
 * new one; so does `updated_at`, older than any row of the new agent, which therefore wins.
 */
export function replacementAgent(
  old: WorkspaceAgent,
  newId: string,
  lifecycle: WorkspaceAgent['lifecycle_state'],
  createdAt: string,
): WorkspaceAgent {
  return {
    ...old,
    id: newId,
    created_at: createdAt,
    lifecycle_state: lifecycle,
    status: 'connecting',
    first_connected_at: null,
    last_connected_at: null,
    disconnected_at: null,
    started_at: null,
    ready_at: null,
  };
}

/** The transition and job status a workspace status implies (the inverse of deriveWorkspaceStatus, where there is one). */
const IMPLIED: Record<string, { transition?: string; job: string }> = {
  pending: { job: 'pending' },
  starting: { transition: 'start', job: 'running' },
  running: { transition: 'start', job: 'succeeded' },
  stopping: { transition: 'stop', job: 'running' },
  stopped: { transition: 'stop', job: 'succeeded' },
  failed: { job: 'failed' },
  canceling: { job: 'canceling' },
  canceled: { job: 'canceled' },
  deleting: { transition: 'delete', job: 'running' },
  deleted: { transition: 'delete', job: 'succeeded' },
};

/**
 * The build with the pushed status, and the transition and job status it implies; unchanged for
 * an unknown status. A pending build says nothing of its transition: after a running workspace
 * it is taken for the stop (a rebuild's first half, and what the push sends with the old agents'
 * deletion), after a stopped one for the start; the next status corrects a wrong guess.
 */
export function buildWithStatus(b: WorkspaceBuild, status: string): WorkspaceBuild {
  const implied = IMPLIED[status];
  if (!implied || b.status === status) return b;
  const next = b.status === 'running' ? 'stop' : b.status === 'stopped' ? 'start' : b.transition;
  return {
    ...b,
    status,
    transition: implied.transition ?? (status === 'pending' ? next : b.transition),
    job: { ...b.job, status: implied.job },
  };
}

/**
 * The row with the push's facts in it. Agents the push no longer lists leave the row (into
 * `departed`); a pushed agent the row lacks takes the place of the agent it replaces, from the
 * row or from `departed`. Returns the same `ws` object when nothing differs.
 */
export function patchRow(row: Workspace, facts: PushedFacts, departed: DepartedAgents): PatchedRow {
  const pushed = new Set(facts.agents.map((a) => a.id));
  const held = agentsOf(row);
  const heldIds = new Set(held.map((a) => a.id));
  const removed = held.filter((a) => !pushed.has(a.id));
  for (const a of removed) departed.keep(a);

  const placed: PatchedRow['placed'] = [];
  const unplaced: string[] = [];
  for (const p of facts.agents) {
    if (heldIds.has(p.id)) continue;
    const oldId = facts.replaced.find((r) => r.newId === p.id)?.oldId;
    const old = oldId === undefined ? departed.takeByName(p.name) : departed.take(oldId);
    if (!old || old.name !== p.name) {
      if (old) departed.keep(old);
      unplaced.push(p.id);
      continue;
    }
    departed.succeeded(old.id, p.id);
    placed.push({ old, agent: replacementAgent(old, p.id, 'created', facts.heardAt) });
  }

  const build = buildWithStatus(row.latest_build, facts.status);
  if (build === row.latest_build && removed.length === 0 && placed.length === 0) return { ws: row, placed, removed, unplaced };

  const resources = build.resources.map((r) => ({ ...r, agents: r.agents.filter((a) => pushed.has(a.id)) }));
  const homeless = new Set<string>();
  for (const p of placed) {
    const home = resources.find((r) => r.id === p.old.resource_id) ?? resources[0];
    if (home) home.agents.push(p.agent);
    else homeless.add(p.agent.id);
  }
  // A parent replaced in this message or an earlier one: its sub-agents point at its new ID.
  const present = new Set(resources.flatMap((r) => r.agents.map((a) => a.id)));
  const repoint = (a: WorkspaceAgent): WorkspaceAgent => {
    const next = a.parent_id && !present.has(a.parent_id) ? departed.successor(a.parent_id) : undefined;
    return next ? { ...a, parent_id: next } : a;
  };
  for (const r of resources) r.agents = r.agents.map(repoint);
  const byId = new Map(resources.flatMap((r) => r.agents).map((a) => [a.id, a] as const));
  return {
    ws: { ...row, latest_build: { ...build, resources } },
    placed: placed.filter((p) => byId.has(p.agent.id)).map((p) => ({ old: p.old, agent: byId.get(p.agent.id)! })),
    removed,
    unplaced: [...unplaced, ...homeless],
  };
}

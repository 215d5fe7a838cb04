/**
 * What the WorkspaceUpdates stream knows of an owner's workspace (name, status, the agent IDs of the
 * latest build) and how a change of it becomes a message, the way coderd's `produceUpdate` computes it:
 * a new workspace is upserted with its agents, a changed name or status upserts the workspace alone,
 * agents are diffed by ID, a workspace that is gone is deleted once with its last status and agents.
 */
import { latestBuild, workspaceStatus, type WorkspaceRow } from '../state';
import { emptyUpdate, WORKSPACE_STATUS, type PbAgent, type PbUpdate } from './proto';

export interface Owned {
  id: string;
  name: string;
  status: number;
  agents: Array<{ id: string; name: string }>;
}

/** The workspace as the stream sees it; undefined once it is deleted. */
export function owned(ws: WorkspaceRow): Owned | undefined {
  const b = latestBuild(ws);
  if (b.transition === 'delete' && b.jobStatus === 'succeeded') return undefined;
  return {
    id: ws.id,
    name: ws.name,
    status: WORKSPACE_STATUS[workspaceStatus(b)] ?? 0,
    agents: b.agents.map((a) => ({ id: a.id, name: a.name })),
  };
}

const agent = (ws: Owned, a: { id: string; name: string }): PbAgent => ({ id: a.id, name: a.name, workspaceId: ws.id });

/** The changes between two views of one workspace, added to `out`; false when nothing differs. */
export function diff(prev: Owned | undefined, next: Owned | undefined, out: PbUpdate): boolean {
  if (!prev && !next) return false;
  if (!prev) {
    out.upsertedWorkspaces.push({ id: next!.id, name: next!.name, status: next!.status });
    out.upsertedAgents.push(...next!.agents.map((a) => agent(next!, a)));
    return true;
  }
  if (!next) {
    out.deletedWorkspaces.push({ id: prev.id, name: prev.name, status: prev.status });
    out.deletedAgents.push(...prev.agents.map((a) => agent(prev, a)));
    return true;
  }
  let changed = false;
  if (prev.name !== next.name || prev.status !== next.status) {
    out.upsertedWorkspaces.push({ id: next.id, name: next.name, status: next.status });
    changed = true;
  }
  const key = (a: { id: string; name: string }) => `${a.id}|${a.name}`;
  const before = new Set(prev.agents.map(key));
  const after = new Set(next.agents.map(key));
  for (const a of next.agents)
    if (!before.has(key(a))) {
      out.upsertedAgents.push(agent(next, a));
      changed = true;
    }
  for (const a of prev.agents)
    if (!after.has(key(a))) {
      out.deletedAgents.push(agent(prev, a));
      changed = true;
    }
  return changed;
}

/** The first message: every workspace of the owner that is not deleted, each with its agents. */
export function snapshot(workspaces: Iterable<WorkspaceRow>, ownerId: string): { update: PbUpdate; seen: Map<string, Owned> } {
  const update = emptyUpdate();
  const seen = new Map<string, Owned>();
  for (const ws of workspaces) {
    if (ws.owner.id !== ownerId) continue;
    const o = owned(ws);
    if (!o) continue;
    seen.set(ws.id, o);
    diff(undefined, o, update);
  }
  return { update, seen };
}

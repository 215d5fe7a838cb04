/**
 * What the model keeps of a row: fingerprints that tell whether a workspace or an agent changed
 * in a way a reader sees, and copies of a workspace with one agent replaced. Rows are never
 * mutated, since data sources may still hold the objects they gave.
 */
import { agentsOf, type Workspace, type WorkspaceAgent } from '../api/schemas';
import { parseTime } from './lifecycle';

/** What a reader sees of a workspace apart from its agents: another fingerprint is a `workspace-changed`. */
export function workspaceFingerprint(ws: Workspace): string {
  const b = ws.latest_build;
  return [
    ws.name,
    ws.owner_name,
    ws.template_name,
    ws.template_display_name,
    ws.outdated,
    ws.health.healthy,
    b.id,
    b.build_number,
    b.transition,
    b.status,
    b.job.status,
    b.job.error ?? '',
    b.job.queue_position,
    ws.deleting_at ?? '',
    ws.dormant_at ?? '',
    ws.favorite,
  ].join('\u0000');
}

/** What a reader sees of an agent: another fingerprint is an `agent-changed`. */
export function agentFingerprint(a: WorkspaceAgent): string {
  return [
    a.name,
    a.parent_id ?? '',
    a.status,
    a.lifecycle_state,
    a.started_at ?? '',
    a.ready_at ?? '',
    a.first_connected_at ?? '',
    a.disconnected_at ?? '',
    a.version,
    a.operating_system,
    a.architecture,
    a.health.healthy,
    a.health.reason ?? '',
    a.scripts.length,
    a.connection_timeout_seconds,
  ].join('\u0000');
}

/** A copy of the workspace with one agent row replaced, and its sub-agents re-pointed at it. */
export function withAgent(ws: Workspace, oldId: string, agent: WorkspaceAgent): Workspace {
  const resources = ws.latest_build.resources.map((r) => ({
    ...r,
    agents: r.agents.map((a) => {
      if (a.id === oldId) return agent;
      if (a.parent_id === oldId && oldId !== agent.id) return { ...a, parent_id: agent.id };
      return a;
    }),
  }));
  return { ...ws, latest_build: { ...ws.latest_build, resources } };
}

/**
 * Stream frames and REST answers carry no common sequence number, so a REST answer produced
 * before a frame can land after it. An agent row's `updated_at` only grows on the server: an
 * incoming row older than the one held is such a late answer, and the held row stays.
 */
export function keepNewerAgents(held: Workspace, incoming: Workspace): Workspace {
  const heldById = new Map(agentsOf(held).map((a) => [a.id, a] as const));
  let out = incoming;
  for (const a of agentsOf(incoming)) {
    const h = heldById.get(a.id);
    if (h && h !== a && (parseTime(h.updated_at) ?? 0) > (parseTime(a.updated_at) ?? 0)) out = withAgent(out, a.id, h);
  }
  return out;
}

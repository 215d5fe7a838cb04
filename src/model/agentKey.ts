/**
 * What identifies an agent across builds: its workspace, its name, and its parent's name. Every
 * rebuild gives the agent a new ID, so "the same agent" is this key, never the ID; and a
 * dev-container sub-agent may share its name with a top-level agent, so the parent is part of it.
 */
import type { WorkspaceAgent } from '../api/schemas';

export interface AgentKey {
  readonly workspaceId: string;
  readonly name: string;
  /** The parent agent's name for a sub-agent, null for a top-level agent. */
  readonly parentName: string | null;
}

/** The one answer to "is this the same agent?" (false when either is missing). */
export function sameAgent(a: AgentKey | undefined, b: AgentKey | undefined): boolean {
  return !!a && !!b && a.workspaceId === b.workspaceId && a.name === b.name && a.parentName === b.parentName;
}

/** The same agent of the same deployment (`session`: whatever stands for the deployment). */
export function sameAgentOf<S>(a: (AgentKey & { session: S }) | undefined, b: (AgentKey & { session: S }) | undefined): boolean {
  return !!a && !!b && a.session === b.session && sameAgent(a, b);
}

/** The key of a record that calls its agent `agentName` (a persisted binding, an ID change). */
export function keyOfNamed(r: { workspaceId: string; agentName: string; parentName: string | null }): AgentKey {
  return { workspaceId: r.workspaceId, name: r.agentName, parentName: r.parentName };
}

/** The name of an agent's parent among the agents of its build (null: top-level, or the parent is not there). */
export function parentNameAmong(agents: readonly WorkspaceAgent[], a: WorkspaceAgent): string | null {
  if (!a.parent_id) return null;
  return agents.find((p) => p.id === a.parent_id)?.name ?? null;
}

/** The key of a wire agent, given the agents of its build. */
export function keyOfAgent(workspaceId: string, agents: readonly WorkspaceAgent[], a: WorkspaceAgent): AgentKey {
  return { workspaceId, name: a.name, parentName: parentNameAmong(agents, a) };
}

/** The agent with this key among the agents of its build. */
export function findByKey(agents: readonly WorkspaceAgent[], key: AgentKey): WorkspaceAgent | undefined {
  return agents.find((a) => sameAgent(keyOfAgent(key.workspaceId, agents, a), key));
}

/** Whether the agent a command was given is the window's bound agent (the reconnect command acts on that one only). */
export function pickedIsBound<S>(picked: AgentKey & { session: S }, bound: AgentKey & { session: S }): boolean {
  return sameAgentOf(picked, bound);
}

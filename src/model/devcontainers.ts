/**
 * Dev containers per parent agent, for one deployment: what the containers list and watch last
 * said, or why there is no answer (the parent agent is not connected, a failure), and whether
 * the deployment has the feature at all. Fed by sync/devcontainerSync.ts; pure, no I/O.
 *
 * A dev container is linked to its sub-agent by `agent.id` (or `subagent_id`), and by name under
 * the same parent when that ID is not (or no longer) in the latest build: a recreate deletes an
 * injected sub-agent and creates it again under a new ID, and the list may name the old ID, or no
 * agent at all, for a while.
 */
import type { ContainersResponse, Devcontainer } from '../api/devcontainerSchemas';
import { DEVCONTAINER_STATUSES, TRANSITIONING_STATUSES } from '../api/devcontainerSchemas';
import { isKnown, type WorkspaceAgent } from '../api/schemas';
import { clampText, MAX_TEXT, type DevcontainerView } from '../protocol/detailsPanel';
import type { Change, Classification } from './types';

export type ParentState =
  | { kind: 'listed'; devcontainers: readonly Devcontainer[]; warnings: readonly string[]; at: number }
  /** 400: the parent agent is not connected; nothing can be listed until it is. */
  | { kind: 'not-connected'; message: string; at: number }
  /** 403: dev containers are off on that agent ("Dev Container feature not enabled."). */
  | { kind: 'disabled'; message: string; at: number }
  | { kind: 'error'; message: string; at: number };

export type Support = 'unknown' | 'supported' | 'unsupported';

export type DevcontainerEvent =
  | { kind: 'answer'; workspaceId: string; parentAgentId: string; answer: ContainersResponse; at: number }
  | {
      kind: 'state';
      workspaceId: string;
      parentAgentId: string;
      state: 'not-connected' | 'disabled' | 'error';
      message: string;
      at: number;
    }
  /** The parent agent left the latest build or the live set: its entry goes. */
  | { kind: 'forget'; parentAgentId: string }
  /** A 404 on the list or watch: the deployment predates dev containers. */
  | { kind: 'unsupported' };

interface Entry {
  workspaceId: string;
  state: ParentState;
  print: string;
}

export class DevcontainerStore {
  private readonly parents = new Map<string, Entry>();
  /** Dev container id -> the last sub-agent name it reported (kept while a recreate hides it). */
  private readonly agentNames = new Map<string, string>();
  private support: Support = 'unknown';

  get supported(): Support {
    return this.support;
  }

  state(parentAgentId: string): ParentState | undefined {
    return this.parents.get(parentAgentId)?.state;
  }

  /** The dev containers of a parent agent, as last listed (none when unknown). */
  of(parentAgentId: string): readonly Devcontainer[] {
    const s = this.state(parentAgentId);
    return s?.kind === 'listed' ? s.devcontainers : [];
  }

  find(parentAgentId: string, devcontainerId: string): Devcontainer | undefined {
    return this.of(parentAgentId).find((d) => d.id === devcontainerId);
  }

  /** The sub-agent name a dev container stands for, even while the answer names no agent. */
  subAgentName(dc: Devcontainer): string | undefined {
    return dc.agent?.name ?? this.agentNames.get(dc.id);
  }

  /** The sub-agent of a dev container among the parent's children in the latest build. */
  subAgentOf(dc: Devcontainer, children: readonly WorkspaceAgent[]): WorkspaceAgent | undefined {
    const ids = [dc.agent?.id, dc.subagent_id].filter((x): x is string => !!x);
    const byId = children.find((a) => ids.includes(a.id));
    if (byId) return byId;
    const name = this.subAgentName(dc);
    return name === undefined ? undefined : children.find((a) => a.name === name);
  }

  /** The dev container a sub-agent belongs to (by ID, then by name under the same parent). */
  devcontainerOf(parentAgentId: string, sub: WorkspaceAgent): Devcontainer | undefined {
    const list = this.of(parentAgentId);
    return list.find((d) => d.agent?.id === sub.id || d.subagent_id === sub.id) ?? list.find((d) => this.subAgentName(d) === sub.name);
  }

  apply(e: DevcontainerEvent): Change[] {
    switch (e.kind) {
      case 'unsupported': {
        if (this.support === 'unsupported') return [];
        this.support = 'unsupported';
        this.agentNames.clear();
        const changes = [...this.parents].map(([parentAgentId, entry]) => changed(entry.workspaceId, parentAgentId));
        this.parents.clear();
        return changes;
      }
      case 'forget': {
        const entry = this.parents.get(e.parentAgentId);
        if (!entry) return [];
        this.parents.delete(e.parentAgentId);
        if (entry.state.kind === 'listed') for (const d of entry.state.devcontainers) this.agentNames.delete(d.id);
        return [changed(entry.workspaceId, e.parentAgentId)];
      }
      case 'answer': {
        this.support = 'supported';
        for (const d of e.answer.devcontainers) if (d.agent?.name) this.agentNames.set(d.id, d.agent.name);
        const state: ParentState = { kind: 'listed', devcontainers: e.answer.devcontainers, warnings: e.answer.warnings, at: e.at };
        return this.set(e.workspaceId, e.parentAgentId, state, JSON.stringify([e.answer.devcontainers, e.answer.warnings]));
      }
      case 'state': {
        const state: ParentState = { kind: e.state, message: e.message, at: e.at };
        return this.set(e.workspaceId, e.parentAgentId, state, `${e.state}\n${e.message}`);
      }
    }
  }

  private set(workspaceId: string, parentAgentId: string, state: ParentState, print: string): Change[] {
    if (this.support === 'unsupported') return [];
    const old = this.parents.get(parentAgentId);
    this.parents.set(parentAgentId, { workspaceId, state, print });
    return old?.print === print ? [] : [changed(workspaceId, parentAgentId)];
  }
}

function changed(workspaceId: string, parentAgentId: string): Change {
  return { kind: 'devcontainers-changed', workspaceId, parentAgentId };
}

/** Whether a recreate may be asked for now (the server refuses while it is transitioning). */
export function canRecreate(dc: Devcontainer): boolean {
  return !TRANSITIONING_STATUSES.includes(dc.status);
}

const STATUS: Record<(typeof DEVCONTAINER_STATUSES)[number], Omit<Classification, 'label'>> = {
  running: { severity: 'ok', icon: 'vm-running' },
  starting: { severity: 'progress', icon: 'loading~spin', detail: 'The dev container is being built or started.' },
  stopping: { severity: 'progress', icon: 'loading~spin', detail: 'The dev container is stopping.' },
  deleting: { severity: 'progress', icon: 'loading~spin', detail: 'The dev container is being deleted.' },
  stopped: { severity: 'off', icon: 'vm-outline', detail: 'The dev container is stopped.' },
  error: { severity: 'error', icon: 'error', detail: 'The dev container failed.' },
};

/** Severity, label, icon and one sentence for a dev container row; `dirty` reads "configuration changed". */
export function classifyDevcontainer(dc: Devcontainer): Classification & { dirty: boolean } {
  const base: Omit<Classification, 'label'> = isKnown(DEVCONTAINER_STATUSES, dc.status)
    ? STATUS[dc.status]
    : { severity: 'warning', icon: 'question', detail: `The deployment reported a status this extension does not know.` };
  const label = isKnown(DEVCONTAINER_STATUSES, dc.status) ? dc.status : `unknown: ${dc.status}`;
  const details: string[] = [];
  if (dc.error) details.push(dc.error);
  else if (base.detail) details.push(base.detail);
  if (dc.dirty) details.push('Its configuration changed since it was built: rebuild it to apply the change.');
  const severity = dc.status === 'running' && dc.dirty ? 'warning' : base.severity;
  return {
    severity,
    icon: base.icon,
    label: dc.dirty ? `${label}, configuration changed` : label,
    detail: details.join(' '),
    dirty: dc.dirty,
  };
}

/** The details panel's section about the dev container a sub-agent runs in. */
export function devcontainerView(dc: Devcontainer): DevcontainerView {
  const c = classifyDevcontainer(dc);
  return {
    name: clampText(dc.name),
    status: clampText(dc.status),
    severity: c.severity,
    label: clampText(c.label),
    dirty: dc.dirty,
    workspaceFolder: clampText(dc.workspace_folder, MAX_TEXT),
    configPath: clampText(dc.config_path, MAX_TEXT),
    container: dc.container ? clampText(dc.container.friendly_name || dc.container.id.slice(0, 12)) : null,
    error: dc.error ? clampText(dc.error, MAX_TEXT) : null,
  };
}

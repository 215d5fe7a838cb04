/**
 * Agent + what the extension observed about it -> the view model of the details panel.
 *
 * Pure: the UI layer gathers the inputs (fleet, classification, binding history, connection
 * state) and the panel renders the result as is, so every decision shown in the panel
 * (timeline order, which buttons apply) is made here and unit-tested.
 */
import type { Devcontainer } from '../api/devcontainerSchemas';
import type { Workspace, WorkspaceAgent } from '../api/schemas';
import { devcontainerView } from './devcontainers';
import type { AgentDetailsView, ActionsView, DiagnosisView, IdChangeView, ScriptView, TimelineEntry } from '../protocol/detailsPanel';
import { clampText, MAX_TEXT } from '../protocol/detailsPanel';
import type { Classification, ConnectionState } from './types';

/** A lifecycle state as this extension saw it arrive (stream or poll), with the local time. */
export interface ObservedTransition {
  state: string;
  at: number;
}

/** One agent-ID change of the binding history (old -> new, in which build, why). */
export interface AgentIdChangeRecord {
  oldId: string;
  newId: string;
  buildNumber: number;
  at: number;
  cause?: string | null;
}

/** A doctor's finding as the UI worded it (model/doctor.ts decides, the UI words, this view carries). */
export interface WordedDiagnosis {
  code: string;
  cause: string;
  fix: string;
  logLines: readonly string[];
  link?: string;
}

export interface DetailsInput {
  deploymentUrl: string;
  workspace: Workspace;
  agent: WorkspaceAgent;
  classification: Classification;
  connection: ConnectionState;
  /** Transitions seen for this agent ID, oldest first. */
  observed?: readonly ObservedTransition[];
  /** Agent-ID changes of this workspace + agent name, oldest first. */
  idHistory?: readonly AgentIdChangeRecord[];
  bound: boolean;
  now: number;
  /** The dev container the agent runs in, for a dev-container sub-agent. */
  devcontainer?: Devcontainer;
  diagnoses?: readonly WordedDiagnosis[];
  /** Which repairs work for this agent on this deployment (model/repairOffers.ts); default: all that apply. */
  offers?: Partial<Pick<ActionsView, 'replay' | 'reinitialize' | 'restart'>>;
}

const MAX_OBSERVED = 50;
const MAX_TIMELINE = 200;
const MAX_HISTORY = 100;
const MAX_SCRIPTS = 200;

/** States whose time the server records in `ready_at` (the end of the start phase). */
const START_ENDS = new Set(['ready', 'start_timeout', 'start_error']);
const ACTIVE_JOBS = new Set(['pending', 'running', 'canceling']);

/**
 * Appends a state to an observed history when it differs from the last one (streams repeat
 * the same state on unrelated events), keeping the newest entries only.
 */
export function recordTransition(history: readonly ObservedTransition[], state: string, at: number): ObservedTransition[] {
  const last = history[history.length - 1];
  if (last && last.state === state) return [...history];
  return [...history, { state, at }].slice(-MAX_OBSERVED);
}

/**
 * The ID changes of one agent, oldest first, out of records of any agents in any order (the
 * binding history outlives bindings): the chain that ends at its current ID, walked back from
 * new ID to old ID. The first record of a change wins, so persisted records go first.
 */
export function idChainOf(agentId: string, records: readonly AgentIdChangeRecord[]): AgentIdChangeRecord[] {
  const byNewId = new Map<string, AgentIdChangeRecord>();
  for (const r of records) if (!byNewId.has(r.newId)) byNewId.set(r.newId, r);
  const chain: AgentIdChangeRecord[] = [];
  const visited = new Set<string>();
  for (let r = byNewId.get(agentId); r && !visited.has(r.newId) && chain.length < MAX_HISTORY; r = byNewId.get(r.oldId)) {
    visited.add(r.newId);
    chain.push(r);
  }
  return chain.reverse();
}

function epoch(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isFinite(t) ? t : null;
}

/**
 * The lifecycle timeline: what was observed, with the server's timestamps put on the latest
 * occurrence of the states the server times (they are exact where local observation is late),
 * and the server's states added when they were never observed (the panel opened afterwards).
 */
export function buildTimeline(agent: WorkspaceAgent, observed: readonly ObservedTransition[], now: number): TimelineEntry[] {
  const entries: TimelineEntry[] = observed.map((o) => ({ state: clampText(o.state), at: o.at, source: 'observed' }));
  const serverTimes: Array<[string, number | null]> = [
    ['created', epoch(agent.created_at)],
    ['starting', epoch(agent.started_at)],
    [START_ENDS.has(agent.lifecycle_state) ? agent.lifecycle_state : 'ready', epoch(agent.ready_at)],
  ];
  for (const [state, at] of serverTimes) {
    if (at === null) continue;
    let latest = -1;
    for (let i = entries.length - 1; i >= 0; i--) {
      if (entries[i]?.state === state) {
        latest = i;
        break;
      }
    }
    if (latest >= 0) entries[latest] = { state, at, source: 'server' };
    else entries.push({ state, at, source: 'server' });
  }
  if (!entries.some((e) => e.state === agent.lifecycle_state)) {
    const at = epoch(agent.updated_at);
    entries.push({ state: clampText(agent.lifecycle_state), at: at ?? now, source: at === null ? 'observed' : 'server' });
  }
  // Stable sort: equal times keep the order they were recorded in.
  return entries
    .map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.at - b.e.at || a.i - b.i)
    .map(({ e }) => e)
    .slice(-MAX_TIMELINE);
}

/** Which buttons apply now. The commands re-check; this only avoids offering the pointless. */
export function actionsFor(workspace: Workspace, agent: WorkspaceAgent, bound: boolean): ActionsView {
  const build = workspace.latest_build;
  const inLatestBuild = build.resources.some((r) => r.agents.some((a) => a.id === agent.id));
  const started = build.transition === 'start' && build.job.status === 'succeeded';
  const agentUsable = inLatestBuild && started && agent.status === 'connected';
  return {
    replay: agentUsable,
    reinitialize: agentUsable,
    // A restart is a stop build then a start build: not while another build is active.
    restart: build.transition === 'start' && !ACTIVE_JOBS.has(build.job.status),
    reconnect: bound,
    copyDiagnostics: true,
  };
}

/** A button shows only when it applies now and works on this deployment for this agent. */
function withOffers(a: ActionsView, offers: DetailsInput['offers']): ActionsView {
  if (!offers) return a;
  return {
    ...a,
    replay: a.replay && offers.replay !== false,
    reinitialize: a.reinitialize && offers.reinitialize !== false,
    restart: a.restart && offers.restart !== false,
  };
}

function diagnosesOf(ds: readonly WordedDiagnosis[]): DiagnosisView[] {
  return ds.slice(0, 10).map((d) => ({
    code: clampText(d.code),
    cause: clampText(d.cause, MAX_TEXT),
    fix: clampText(d.fix, MAX_TEXT),
    logLines: d.logLines.slice(-50).map((l) => clampText(l, MAX_TEXT)),
    link: d.link ? clampText(d.link) : null,
  }));
}

function scriptsOf(agent: WorkspaceAgent): ScriptView[] {
  return agent.scripts.slice(0, MAX_SCRIPTS).map((s) => ({
    // Empty when unnamed: the page says so in the user's language.
    name: clampText(s.display_name),
    runOnStart: s.run_on_start,
    runOnStop: s.run_on_stop,
    startBlocksLogin: s.start_blocks_login,
    timeoutSeconds: Math.max(0, s.timeout),
  }));
}

function historyOf(records: readonly AgentIdChangeRecord[]): IdChangeView[] {
  return records.slice(-MAX_HISTORY).map((r) => ({
    oldId: clampText(r.oldId),
    newId: clampText(r.newId),
    buildNumber: Math.max(0, Math.trunc(r.buildNumber)),
    at: r.at,
    cause: r.cause ? clampText(r.cause) : null,
  }));
}

function connectionOf(state: ConnectionState): AgentDetailsView['connection'] {
  switch (state.kind) {
    case 'offline':
      return { kind: 'offline', since: state.since, error: clampText(state.error, MAX_TEXT) };
    case 'signed-out':
      return { kind: 'signed-out', since: null, error: clampText(state.error, MAX_TEXT) };
    default:
      return { kind: state.kind, since: null, error: null };
  }
}

export function toAgentDetailsView(input: DetailsInput): AgentDetailsView {
  const { workspace, agent, classification } = input;
  const parent = agent.parent_id
    ? workspace.latest_build.resources.flatMap((r) => r.agents).find((a) => a.id === agent.parent_id)
    : undefined;
  const orNull = (s: string | null | undefined, max?: number): string | null => (s ? clampText(s, max) : null);
  return {
    deploymentUrl: clampText(input.deploymentUrl),
    workspaceId: clampText(workspace.id),
    workspaceName: clampText(workspace.name),
    ownerName: clampText(workspace.owner_name),
    agentId: clampText(agent.id),
    agentName: clampText(agent.name),
    parentName: parent ? clampText(parent.name) : null,
    bound: input.bound,
    status: clampText(agent.status),
    lifecycle: clampText(agent.lifecycle_state),
    severity: classification.severity,
    label: clampText(classification.label),
    detail: orNull(classification.detail, MAX_TEXT),
    stuck: classification.stuck === true,
    connection: connectionOf(input.connection),
    build: {
      number: Math.max(0, Math.trunc(workspace.latest_build.build_number)),
      transition: clampText(workspace.latest_build.transition),
      jobStatus: clampText(workspace.latest_build.job.status),
    },
    version: clampText(agent.version),
    apiVersion: clampText(agent.api_version),
    os: clampText(agent.operating_system),
    arch: clampText(agent.architecture),
    directory: orNull(agent.expanded_directory || agent.directory, MAX_TEXT),
    health: { healthy: agent.health.healthy, reason: orNull(agent.health.reason, MAX_TEXT) },
    troubleshootingUrl: orNull(agent.troubleshooting_url, MAX_TEXT),
    times: {
      createdAt: epoch(agent.created_at),
      firstConnectedAt: epoch(agent.first_connected_at),
      lastConnectedAt: epoch(agent.last_connected_at),
      disconnectedAt: epoch(agent.disconnected_at),
      startedAt: epoch(agent.started_at),
      readyAt: epoch(agent.ready_at),
    },
    timeline: buildTimeline(agent, input.observed ?? [], input.now),
    idHistory: historyOf(input.idHistory ?? []),
    scripts: scriptsOf(agent),
    diagnoses: diagnosesOf(input.diagnoses ?? []),
    actions: withOffers(actionsFor(workspace, agent, input.bound), input.offers),
    devcontainer: input.devcontainer ? devcontainerView(input.devcontainer) : null,
    asOf: input.now,
  };
}

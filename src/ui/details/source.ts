/**
 * Glue between the fleet's data flow and a DetailsPanel: a resolver (what the fleet knows about
 * the agent now: its row, the fleet's lifecycle timeline of its ID, the persisted binding
 * history), a DetailsSource over it and the fleet's change event, and a log follower that turns
 * the agent's `logs?follow` stream into panel log lines, resuming after the last line it got.
 */
import type { Clock } from '../../common/clock';
import type { Disposable } from '../../common/disposable';
import type { Logger } from '../../common/log';
import type { CoderClient } from '../../api/client';
import { ReconnectingStream, describeClose } from '../../api/socket';
import { followAgentLogs } from '../../api/streams';
import type { Workspace, WorkspaceAgent, WorkspaceAgentLog } from '../../api/schemas';
import type { Devcontainer } from '../../api/devcontainerSchemas';
import {
  idChainOf,
  recordTransition,
  toAgentDetailsView,
  type AgentIdChangeRecord,
  type DetailsInput,
  type ObservedTransition,
} from '../../model/detailsView';
import type { Fleet } from '../../model/fleet';
import type { Classification } from '../../model/types';
import type { DetailsPanelState, LogLine } from '../../protocol/detailsPanel';
import type { DetailsSource, LogSink } from './panel';

/** The agent a panel shows: by name (and parent name) in its workspace, so it follows ID changes. */
export type DetailsTarget = DetailsPanelState;

/** One panel per target. */
export function detailsKey(t: DetailsTarget): string {
  return `${t.deploymentUrl}|${t.workspaceId}|${t.parentName ?? ''}|${t.agentName}`;
}

export interface ResolveDeps<S extends { fleet: Fleet }> {
  /** An open deployment, by URL. */
  sessionOf(deploymentUrl: string): S | undefined;
  classify(session: S, agent: WorkspaceAgent, now: number): Classification;
  /** The dev container a sub-agent runs in, when known. */
  devcontainerOf?(session: S, agent: WorkspaceAgent): Devcontainer | undefined;
  isBound(t: DetailsTarget): boolean;
  /** The persisted binding history (any agent, any order): the panel keeps the changes of its own agent. */
  idHistory(): readonly AgentIdChangeRecord[];
  now(): number;
  /** What the doctor says about the agent and which repairs work for it here. */
  doctor?(session: S, workspace: Workspace, agent: WorkspaceAgent): Pick<DetailsInput, 'diagnoses' | 'offers'>;
}

/**
 * True while the target's deployment is not open yet or has not answered yet: right after a
 * reload the restored panel's agent is not "gone", its data is on the way.
 */
export function awaitingData<S extends { fleet: Fleet }>(t: DetailsTarget, d: Pick<ResolveDeps<S>, 'sessionOf'>): boolean {
  const fleet = d.sessionOf(t.deploymentUrl)?.fleet;
  if (!fleet) return true;
  const kind = fleet.connection.kind;
  return fleet.workspace(t.workspaceId) === undefined && (kind === 'idle' || kind === 'connecting');
}

/** What the fleet knows about the target now, or undefined when its deployment or agent is not there. */
export function resolveDetails<S extends { fleet: Fleet }>(t: DetailsTarget, d: ResolveDeps<S>): DetailsInput | undefined {
  const session = d.sessionOf(t.deploymentUrl);
  const fleet = session?.fleet;
  const workspace = fleet?.workspace(t.workspaceId);
  const agent = fleet?.findAgent(t.workspaceId, t.agentName, t.parentName);
  if (!session || !fleet || !workspace || !agent) return undefined;
  const now = d.now();
  const devcontainer = d.devcontainerOf?.(session, agent);
  return {
    deploymentUrl: t.deploymentUrl,
    workspace,
    agent,
    classification: d.classify(session, agent, now),
    connection: fleet.connection,
    observed: fleet.lifecycleTimeline(agent.id),
    idHistory: d.idHistory(),
    bound: d.isBound(t),
    now,
    ...(devcontainer ? { devcontainer } : {}),
    ...d.doctor?.(session, workspace, agent),
  };
}

export interface DetailsSourceOptions {
  target: DetailsTarget;
  /**
   * The agent as the fleet has it now (looked up by workspace + name, so it follows ID changes).
   * `observed`: the fleet's lifecycle timeline of this agent ID when it keeps one; without it,
   * the source records the transitions it sees while the panel is open.
   */
  resolve(): DetailsInput | undefined;
  /** See DetailsSource.loading. */
  loading(): boolean;
  /** The fleet's change event (any change may touch the agent; the panel skips unchanged views). */
  onDidChange(listener: () => void): Disposable;
  followLogs(agentId: string, sink: LogSink): Disposable;
}

const MAX_SEEN_ID_CHANGES = 20;

export function createDetailsSource(o: DetailsSourceOptions): DetailsSource {
  let observed: ObservedTransition[] = [];
  let observedFor: string | undefined;
  // ID changes seen while the panel is open: the binding history has only the bound agent's.
  let seenChanges: AgentIdChangeRecord[] = [];
  return {
    key: detailsKey(o.target),
    state: o.target,
    loading: () => o.loading(),
    getView() {
      const input = o.resolve();
      if (!input) return undefined;
      if (input.agent.id !== observedFor) {
        if (observedFor !== undefined) {
          const change = {
            oldId: observedFor,
            newId: input.agent.id,
            buildNumber: input.workspace.latest_build.build_number,
            at: input.now,
            cause: 'new build',
          };
          seenChanges = [...seenChanges, change].slice(-MAX_SEEN_ID_CHANGES);
        }
        observed = [];
        observedFor = input.agent.id;
      }
      observed = recordTransition(input.observed ?? observed, input.agent.lifecycle_state, input.now);
      return toAgentDetailsView({ ...input, observed, idHistory: idChainOf(input.agent.id, [...(input.idHistory ?? []), ...seenChanges]) });
    },
    onDidChange: (listener) => o.onDidChange(listener),
    followLogs: (agentId, sink) => o.followLogs(agentId, sink),
  };
}

export function toLogLine(l: WorkspaceAgentLog): LogLine {
  const at = Date.parse(l.created_at);
  return { id: l.id, at: Number.isFinite(at) ? at : null, level: l.level, output: l.output, source: l.source_id || null };
}

/**
 * Follows an agent's startup logs into a sink: backlog first, then live lines; reconnects with
 * the stream's backoff and asks only for lines after the last one received.
 */
export function followLogsInto(client: CoderClient, agentId: string, sink: LogSink, o: { clock: Clock; log: Logger }): Disposable {
  let lastId: number | undefined;
  const stream = new ReconnectingStream<WorkspaceAgentLog[]>({
    clock: o.clock,
    // Re-evaluated on every (re)connect, so a resumed stream starts after the last line seen.
    connect: (h) => followAgentLogs(client, agentId, lastId, (reason) => o.log.warn(`agent logs ${agentId}: ${reason}`))(h),
    onFrame: (logs) => {
      if (logs.length === 0) return;
      lastId = logs.reduce((m, l) => Math.max(m, l.id), lastId ?? -1);
      sink.lines(logs.map(toLogLine));
    },
    onOpen: () => sink.status('following'),
    onState: (s) => {
      if (s.kind === 'backoff') {
        // A normal close is the server saying the startup logs are complete; resuming later
        // (after the last id) picks up anything a replay or reinitialization adds.
        if (s.reason.kind === 'closed' && s.reason.code === 1000) sink.status('ended');
        else sink.status('error', `Reconnecting: ${describeClose(s.reason)}`);
      }
      if (s.kind === 'closed-permanently' && s.reason !== 'disposed') {
        sink.status(s.reason === 'unsupported' ? 'unavailable' : 'error', s.detail);
      }
    },
    // The log stream carries no pings of its own between lines; silence is normal here.
    pingIntervalMs: 0,
  });
  stream.start();
  return stream;
}

/**
 * The data of the reconnect decision (model/reconnect.ts): its settings, state, events and
 * decisions, all plain data, and the readers of the state a driver needs.
 */
import type { WorkspaceAgent } from '../api/schemas';
import type { OpSupport, RepairOp } from './operations';

export type { RepairOp } from './operations';

export interface ReconnectSettings {
  autoReconnect: 'auto' | 'ask' | 'off';
  stuckThresholdMs: number;
  stuckAction: 'ask' | 'replay' | 'reinitialize' | 'none';
  timeoutMs: number;
  maxAutoReconnects: number;
  loopWindowMs: number;
}

export const DEFAULT_RECONNECT_SETTINGS: ReconnectSettings = {
  autoReconnect: 'auto',
  stuckThresholdMs: 20_000,
  stuckAction: 'ask',
  timeoutMs: 30_000,
  maxAutoReconnects: 3,
  loopWindowMs: 600_000,
};

export type Decision =
  | { kind: 'waiting'; reason: string; workspaceId: string; agentId: string }
  | { kind: 'reconnect'; reason: string; workspaceId: string; agentId: string; buildNumber: number }
  | { kind: 'ask-reconnect'; reason: string; workspaceId: string; agentId: string; buildNumber: number }
  | { kind: 'ask-loop-cap'; reason: string; workspaceId: string; agentId: string; buildNumber: number }
  | { kind: 'hold'; reason: string; workspaceId: string; agentId: string }
  | { kind: 'stuck'; reason: string; agentId: string; sinceMs: number }
  | { kind: 'offer-repair'; reason: string; agentId: string }
  | { kind: 'replay'; reason: string; agentId: string }
  | { kind: 'reinitialize'; reason: string; agentId: string }
  | { kind: 'offer-restart'; reason: string; workspaceId: string; agentId: string }
  | { kind: 'ready'; reason: string; agentId: string }
  | { kind: 'give-up'; reason: string; workspaceId: string };

export type ReconnectPhase =
  'idle' | 'waiting-ready' | 'stuck' | 'repairing-replay' | 'repairing-reinitialize' | 'awaiting-user' | 'reconnecting';

export interface ReconnectTarget {
  workspaceId: string;
  agentId: string;
  buildNumber: number;
  /** An ID change is waiting to be followed by a reconnect. */
  pendingReconnect: boolean;
}

export interface ReconnectState {
  phase: ReconnectPhase;
  target?: ReconnectTarget;
  /** The target's latest row. */
  last?: WorkspaceAgent;
  /** Local-clock time this signature was first seen. */
  createdSeenAt?: number;
  /** Local-clock time the stuck signature started (when the agent connected, by the server, but no later than first seen). */
  createdSince?: number;
  /** When the stuck signature passes the threshold. */
  stuckAt?: number;
  /** When the current wait (for the new agent to be usable, or for a repair) ends. */
  deadline?: { at: number; what: 'waiting' | RepairOp };
  /** The automatic reconnects per workspace, for the loop cap. */
  autoReconnects: Record<string, number[]>;
}

export type UserChoice = 'reconnect' | 'later' | 'replay' | 'reinitialize' | 'restart';

export type ReconnectEvent =
  | { type: 'id-changed'; workspaceId: string; oldId: string; newId: string; buildNumber: number }
  /** The bound agent's latest row. */
  | { type: 'agent-update'; workspaceId: string; agent: WorkspaceAgent }
  /** The latest build of the bound workspace has no agents: nothing to wait for. */
  | { type: 'no-agents'; workspaceId: string; buildNumber: number }
  | { type: 'repair-result'; op: RepairOp; outcome: 'started' | 'unsupported' | 'failed'; error?: string }
  /** The driver reconnected (reloaded or rebound) to the target. */
  | { type: 'reconnected' }
  /**
   * The driver could not reconnect without the user's consent (unsaved editors) and the user
   * said later: that reconnect never happened, so it leaves the loop history, and the target waits.
   */
  | { type: 'deferred'; agentId: string }
  /**
   * The user's answer to a question. `about`: the agent the question was about; an answer that
   * comes after the target moved on (a newer agent, a dismissed stale notification) is ignored.
   */
  | { type: 'user-choice'; choice: UserChoice; about?: string }
  /** The clock reached `nextDeadline(state)`. */
  | { type: 'tick' }
  /** Forget the target and its deadlines. */
  | { type: 'stop' };

/** What a step needs besides the state: the time, the settings, what the deployment supports. */
export interface ReconnectInput {
  now: number;
  /** The deployment's clock minus the local one (see api/serverClock.ts); 0 when unknown. */
  skewMs?: number;
  settings: ReconnectSettings;
  support: (op: RepairOp) => OpSupport;
}

export interface ReconnectStep {
  state: ReconnectState;
  decisions: Decision[];
}

/**
 * `loopHistory`: the automatic reconnects of earlier runs (a reload restarts the extension, so
 * the loop cap only holds across reloads if the times are carried over). Malformed parts are dropped.
 */
export function initialReconnectState(loopHistory?: unknown): ReconnectState {
  const autoReconnects: Record<string, number[]> = {};
  if (typeof loopHistory === 'object' && loopHistory !== null) {
    for (const [ws, times] of Object.entries(loopHistory as Record<string, unknown>)) {
      if (Array.isArray(times)) autoReconnects[ws] = times.filter((t): t is number => typeof t === 'number');
    }
  }
  return { phase: 'idle', autoReconnects };
}

/** The automatic reconnects still inside the loop window, to persist across reloads. */
export function loopHistoryOf(s: ReconnectState, now: number, settings: ReconnectSettings): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const [ws, times] of Object.entries(s.autoReconnects)) {
    const recent = times.filter((t) => now - t < settings.loopWindowMs);
    if (recent.length) out[ws] = recent;
  }
  return out;
}

/** The earliest deadline the driver must wake up for, if any. */
export function nextDeadline(s: ReconnectState): number | undefined {
  const all = [s.stuckAt, s.deadline?.at].filter((t): t is number => t !== undefined);
  return all.length ? Math.min(...all) : undefined;
}

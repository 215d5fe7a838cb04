/**
 * The vocabulary between the data sources (sync/) and the model, and between the model and
 * its readers (ui/, reconnect). Pure types: no I/O here.
 */
import type { ConnectionWatchEvent, Workspace, WorkspaceAgent } from '../api/schemas';

/** How the deployment connection is doing, as the UI must tell it honestly. */
export type ConnectionState =
  | { kind: 'idle' } // nothing configured
  | { kind: 'connecting' }
  | { kind: 'live' } // streams/polls are succeeding
  | { kind: 'offline'; since: number; error: string } // control plane unreachable; shown state is as old as `since`
  | { kind: 'signed-out'; error: string }; // 401/403: no retry until the user signs in again

/** Which transport feeds a workspace. */
export type StreamRung = 'connection-watch' | 'watch-ws' | 'sse' | 'poll';

/** Which transport serves the fleet (which workspaces exist, their status, their agents' IDs). */
export type FleetRung = 'push' | 'poll';

/** Inputs of Fleet.apply(). Every data source turns what it heard into one of these. */
export type FleetEvent =
  /** A full answer of GET /workspaces for the configured filter: workspaces not in it are removed. */
  | { kind: 'workspaces'; workspaces: Workspace[]; at: number }
  /** One whole workspace (watch-ws, SSE, GET /workspaces/{id}). */
  | { kind: 'workspace'; workspace: Workspace; at: number }
  /**
   * A workspace without a stream, its row patched with the fleet push's status and agent IDs
   * (pushedRow.ts); `replaced` pairs each agent placed under a new ID with the row it replaces.
   */
  | { kind: 'pushed'; workspace: Workspace; replaced: { old: WorkspaceAgent; agent: WorkspaceAgent }[]; at: number }
  /** The workspace is gone (404 on resync, deleted build). */
  | { kind: 'workspace-removed'; workspaceId: string; at: number }
  /** One agent row (GET /workspaceagents/{id}). */
  | { kind: 'agent'; workspaceId: string; agent: WorkspaceAgent; at: number }
  /** A frame of agent-connection-watch for one agent name: partial (lifecycle + id only). */
  | { kind: 'connection-watch'; workspaceId: string; agentName: string; event: ConnectionWatchEvent; at: number }
  /** The deployment connection changed. */
  | { kind: 'connection'; state: ConnectionState; at: number }
  /** The transport of a workspace changed (for display and diagnostics). */
  | { kind: 'rung'; workspaceId: string; rung: StreamRung; at: number }
  /** The transport of the fleet changed, with the reason (for display and the log). */
  | { kind: 'fleet-rung'; rung: FleetRung; reason: string; at: number };

/** Outputs of Fleet.apply(): only what really changed. */
export type Change =
  | { kind: 'workspace-added'; workspaceId: string }
  | { kind: 'workspace-changed'; workspaceId: string; buildChanged: boolean }
  | { kind: 'workspace-removed'; workspaceId: string }
  | { kind: 'agent-changed'; workspaceId: string; agentId: string }
  | {
      kind: 'agent-id-changed';
      workspaceId: string;
      agentName: string;
      /** Name of the parent agent for a dev-container sub-agent, else null. */
      parentName: string | null;
      oldId: string;
      newId: string;
      buildNumber: number;
    }
  | { kind: 'connection-changed'; state: ConnectionState }
  | { kind: 'fleet-rung-changed'; rung: FleetRung; reason: string }
  /** The dev containers of a parent agent changed (see devcontainers.ts). */
  | { kind: 'devcontainers-changed'; workspaceId: string; parentAgentId: string };

/** Severity of an agent or workspace state, mapped to icon colours by the UI. */
export type Severity = 'ok' | 'progress' | 'warning' | 'error' | 'off';

/** What the UI shows for an agent (or a workspace). */
export interface Classification {
  severity: Severity;
  /** Short text: "ready", "starting 1m 12s", "created, connected: lifecycle not reported". */
  label: string;
  /** A codicon id without the $() wrapper, e.g. "pass-filled", "loading~spin". */
  icon: string;
  /** One sentence for tooltips: why, and what to do. */
  detail?: string;
  /** True for the "connected but lifecycle created" signature. */
  stuck?: boolean;
  /** What label and detail say, as a code and its values, for the UI to say in the user's language. */
  text?: ClassificationText;
}

export type ClassificationCode =
  | 'agent.off'
  | 'agent.unknownStatus'
  | 'agent.timeout'
  | 'agent.disconnectedShuttingDown'
  | 'agent.disconnected'
  | 'agent.connecting'
  | 'agent.createdStuck'
  | 'agent.created'
  | 'agent.starting'
  | 'agent.ready'
  | 'agent.startTimeout'
  | 'agent.startError'
  | 'agent.shuttingDown'
  | 'agent.shutdownTimeout'
  | 'agent.shutdownError'
  | 'agent.unknownLifecycle'
  | 'agent.other'
  | 'workspace.building'
  | 'workspace.unknownStatus'
  | 'workspace.running'
  | 'workspace.stopped'
  | 'workspace.deleted'
  | 'workspace.failed'
  | 'workspace.canceled'
  | 'workspace.other';

/** The values a code's text takes (server values stay as they are; durations are formatted). */
export interface ClassificationText {
  code: ClassificationCode;
  /** A status, lifecycle state or job status the text names. */
  value?: string;
  duration?: string;
  seconds?: number;
  blocking?: boolean;
  reason?: string;
  transition?: string;
  queue?: number;
  build?: number;
  error?: string;
}

/**
 * What an agent's (and a workspace's) state means to a person: severity, a short label, an
 * icon and one sentence of detail. Every lifecycle x status pair has an answer, unknown values
 * included, so the UI never has to guess.
 */
import { AGENT_LIFECYCLES, AGENT_STATUSES, WORKSPACE_STATUSES, isKnown, type Workspace, type WorkspaceAgent } from '../api/schemas';
import type { Classification, ClassificationText, Severity } from './types';

export const DEFAULT_STUCK_THRESHOLD_MS = 20_000;

export interface ClassifyOptions {
  /** When the "connected but lifecycle created" signature started, on the local clock (see `stuckStart`). */
  stuckSince?: number;
  stuckThresholdMs?: number;
}

const ICONS: Record<Severity, string> = {
  ok: 'pass-filled',
  progress: 'loading~spin',
  warning: 'warning',
  error: 'error',
  off: 'circle-slash',
};

function make(severity: Severity, text: ClassificationText, label: string, detail?: string, icon = ICONS[severity]): Classification {
  return detail === undefined ? { severity, label, icon, text } : { severity, label, icon, detail, text };
}

/** "45s", "1m 12s", "2h 3m", "3d 4h". */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

export function shortId(id: string): string {
  return id.slice(0, 8);
}

/** Parses an RFC 3339 time; undefined when absent or unreadable. */
export function parseTime(t: string | null | undefined): number | undefined {
  if (!t) return undefined;
  const ms = Date.parse(t);
  return Number.isNaN(ms) ? undefined : ms;
}

export function hasBlockingScripts(agent: WorkspaceAgent): boolean {
  return agent.scripts.some((s) => s.start_blocks_login) || agent.startup_script_behavior === 'blocking';
}

/**
 * Whether a person can work in the agent now. Coder lets a login through once the agent is
 * connected unless a startup script blocks login, in which case only the end of startup
 * (ready, or start_timeout/start_error, which also end the wait) lets it through. `created`
 * while connected is the stuck signature: the agent never reported its lifecycle, so startup
 * may not have run; it counts as usable only when nothing blocks login.
 */
export function isUsable(agent: WorkspaceAgent): boolean {
  if (agent.status !== 'connected') return false;
  const lc = agent.lifecycle_state;
  if (lc === 'ready') return true;
  const blocking = hasBlockingScripts(agent);
  if (lc === 'start_timeout' || lc === 'start_error') return true;
  if (lc === 'starting' || lc === 'created') return !blocking;
  return false;
}

/**
 * The one stuck clock: the signature (connected, lifecycle `created`) starts when the agent
 * connected, by the server's own timestamp (after an ID change, the new row's), moved onto the
 * local clock by `skewMs` (server minus local, see api/serverClock.ts); not when this window
 * first saw the row, so a reload does not restart the count. `seenAt`, when this side first saw
 * the signature, bounds it: a timestamp a little in the future (within the skew tolerance) does
 * not push the threshold out.
 */
export function stuckStart(agent: WorkspaceAgent, skewMs = 0, seenAt?: number): number | undefined {
  const server = parseTime(agent.first_connected_at) ?? parseTime(agent.created_at);
  const local = server === undefined ? undefined : server - skewMs;
  if (seenAt === undefined) return local;
  return local === undefined ? seenAt : Math.min(seenAt, local);
}

export function classifyAgent(agent: WorkspaceAgent, now: number, opts: ClassifyOptions = {}): Classification {
  const lc = agent.lifecycle_state;
  const status = agent.status;
  const threshold = opts.stuckThresholdMs ?? DEFAULT_STUCK_THRESHOLD_MS;

  if (lc === 'off') return make('off', { code: 'agent.off' }, 'off', 'The agent has shut down.');
  if (!isKnown(AGENT_STATUSES, status)) {
    return make(
      'warning',
      { code: 'agent.unknownStatus', value: status },
      `unknown: ${status}`,
      `The deployment reported an agent status this extension does not know (${status}).`,
    );
  }
  if (status === 'timeout') {
    return make(
      'error',
      { code: 'agent.timeout', seconds: agent.connection_timeout_seconds },
      'timeout: never connected',
      `The agent did not connect within ${agent.connection_timeout_seconds}s. Check the workspace's startup or the troubleshooting link.`,
    );
  }
  if (status === 'disconnected') {
    if (lc === 'shutting_down') {
      return make('progress', { code: 'agent.disconnectedShuttingDown' }, 'shutting down', 'The agent is shutting down.');
    }
    return make(
      'error',
      { code: 'agent.disconnected' },
      'disconnected',
      'The agent lost its connection to the control plane.',
      'debug-disconnect',
    );
  }
  if (status === 'connecting') {
    return make('progress', { code: 'agent.connecting' }, 'connecting', 'Waiting for the agent to connect.');
  }
  // connected
  switch (lc) {
    case 'created': {
      const since = opts.stuckSince ?? stuckStart(agent);
      const elapsed = since === undefined ? 0 : now - since;
      if (elapsed >= threshold) {
        return {
          ...make(
            'warning',
            { code: 'agent.createdStuck', duration: formatDuration(elapsed) },
            `created, connected: lifecycle not reported for ${formatDuration(elapsed)}`,
            'The agent is connected but never reported its lifecycle (it may have survived a rebuild). Replay its lifecycle or reinitialize it.',
          ),
          stuck: true,
        };
      }
      return make('progress', { code: 'agent.created' }, 'created, connected', 'The agent connected and should report "starting" soon.');
    }
    case 'starting': {
      const started = parseTime(agent.started_at);
      const duration = started === undefined ? undefined : formatDuration(now - started);
      const label = duration === undefined ? 'starting' : `starting ${duration}`;
      const blocking = hasBlockingScripts(agent);
      return make(
        'progress',
        duration === undefined ? { code: 'agent.starting', blocking } : { code: 'agent.starting', blocking, duration },
        label,
        blocking ? 'Startup scripts are running; login waits for them.' : 'Startup scripts are running; the agent is already usable.',
      );
    }
    case 'ready':
      return make('ok', { code: 'agent.ready' }, 'ready', 'The agent is connected and its startup has finished.');
    case 'start_timeout':
      return make(
        'warning',
        { code: 'agent.startTimeout' },
        'start timeout',
        'A startup script took longer than its timeout. The agent is usable; check its logs.',
      );
    case 'start_error': {
      const reason = agent.health.reason;
      return make(
        'error',
        reason ? { code: 'agent.startError', reason } : { code: 'agent.startError' },
        reason ? `start error: ${reason}` : 'start error',
        'A startup script failed. The agent is usable; check its logs.',
      );
    }
    case 'shutting_down':
      return make('progress', { code: 'agent.shuttingDown' }, 'shutting down', 'The agent is running its shutdown scripts.');
    case 'shutdown_timeout':
      return make('warning', { code: 'agent.shutdownTimeout' }, 'shutdown timeout', 'A shutdown script took longer than its timeout.');
    case 'shutdown_error':
      return make('error', { code: 'agent.shutdownError' }, 'shutdown error', 'A shutdown script failed.');
    default:
      if (!isKnown(AGENT_LIFECYCLES, lc)) {
        return make(
          'warning',
          { code: 'agent.unknownLifecycle', value: lc },
          `unknown: ${lc}`,
          `The deployment reported a lifecycle state this extension does not know (${lc}).`,
        );
      }
      return make('warning', { code: 'agent.other', value: lc }, lc);
  }
}

/** The workspace's state from its latest build; while a build runs, its transition and job status. */
export function classifyWorkspace(ws: Workspace): Classification {
  const b = ws.latest_build;
  const status = b.status;
  const job = b.job.status;
  const building = job === 'pending' || job === 'running';
  if (building) {
    const queued = job === 'pending' && b.job.queue_position > 0;
    const queue = queued ? ` (queue ${b.job.queue_position})` : '';
    const text: ClassificationText = { code: 'workspace.building', transition: b.transition, value: job, build: b.build_number };
    return make(
      'progress',
      queued ? { ...text, queue: b.job.queue_position } : text,
      `${b.transition}: ${job}${queue}`,
      `Build #${b.build_number} (${b.transition}) is ${job}.`,
    );
  }
  if (!isKnown(WORKSPACE_STATUSES, status)) {
    return make(
      'warning',
      { code: 'workspace.unknownStatus', value: status },
      `unknown: ${status}`,
      `The deployment reported a workspace status this extension does not know (${status}).`,
    );
  }
  switch (status) {
    case 'running':
      return make('ok', { code: 'workspace.running' }, 'running');
    case 'stopped':
      return make('off', { code: 'workspace.stopped' }, 'stopped');
    case 'deleted':
      return make('off', { code: 'workspace.deleted' }, 'deleted');
    case 'failed':
      return make(
        'error',
        b.job.error
          ? { code: 'workspace.failed', build: b.build_number, error: b.job.error }
          : { code: 'workspace.failed', build: b.build_number },
        'failed',
        b.job.error ? `Build #${b.build_number} failed: ${b.job.error}` : `Build #${b.build_number} failed.`,
      );
    case 'canceled':
      return make('warning', { code: 'workspace.canceled', build: b.build_number }, 'canceled', `Build #${b.build_number} was canceled.`);
    default:
      return make('progress', { code: 'workspace.other', value: status }, status);
  }
}

/** Workspace status as the server derives it from the latest build's job (coder-api.md §4). */
export function deriveWorkspaceStatus(transition: string, jobStatus: string): string {
  switch (jobStatus) {
    case 'pending':
      return 'pending';
    case 'running':
      return transition === 'stop' ? 'stopping' : transition === 'delete' ? 'deleting' : 'starting';
    case 'succeeded':
      return transition === 'stop' ? 'stopped' : transition === 'delete' ? 'deleted' : 'running';
    case 'canceling':
    case 'canceled':
    case 'failed':
      return jobStatus;
    default:
      return jobStatus;
  }
}

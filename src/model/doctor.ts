/**
 * The doctor: for an agent that is not usable (and a workspace whose build went wrong), the most
 * likely cause and the fix that works, decided from the rows and from a small record of earlier
 * stuck builds of the same workspace. Pure: it returns codes and values; the UI words them
 * (localized), so nothing here is English meant for a person.
 */
import type { AgentScript, Workspace, WorkspaceAgent } from '../api/schemas';
import { classifyAgent, isUsable, parseTime, stuckStart } from './lifecycle';

export type DiagnosisCode =
  /** Connected at `created` past the threshold after an ID change: the process survived the build (Coder issue 18571). */
  | 'survived-build'
  /** The same again on a later build of the same workspace: a restart does not help on this template. */
  | 'survives-restarts'
  /** Connected at `created` past the threshold on a first build: the lifecycle was never reported. */
  | 'lifecycle-not-reported'
  /** `connecting`/`timeout` past connection_timeout_seconds. */
  | 'never-connected'
  | 'startup-script-failed'
  | 'startup-script-timed-out'
  | 'disconnected'
  | 'build-failed'
  | 'build-canceled'
  | 'agent-outdated';

export type FixCode =
  /** Restart the workspace (or replay/reinitialize where the deployment offers it). */
  | 'restart'
  /** The template restarts the agent service on resume; no Coder release fixes it yet. */
  | 'template-restarts-agent'
  /** Read the build log and the troubleshooting page: the agent process never started or cannot reach the deployment. */
  | 'check-build-log'
  /** Fix the script named; its log is attached. */
  | 'fix-script'
  /** The workspace is not running: start it. */
  | 'start-workspace'
  /** The workspace runs but its agent is gone: the machine or its network is down. */
  | 'check-machine'
  /** The build's error names what to fix in the template or its parameters. */
  | 'fix-build'
  /** Start the workspace again. */
  | 'build-again'
  /** Update the workspace to a template version whose image has a current agent, or restart it. */
  | 'update-agent';

/** Where the last lines to show come from. */
export type LogRef = { kind: 'build'; buildId: string } | { kind: 'agent'; agentId: string; sourceId: string };

export interface Diagnosis {
  code: DiagnosisCode;
  fix: FixCode;
  /** What the words are built from: names, numbers, epoch milliseconds. */
  values: Readonly<Record<string, string | number>>;
  /** False only where the doctor knows a workspace restart will not help. */
  restartHelps: boolean;
  /** Whose last lines belong with this diagnosis. */
  log?: LogRef;
  /** A page that explains this failure (the agent's troubleshooting URL). */
  link?: string;
  /**
   * A note beside the cause, not the cause: an outdated agent that is usable, or whose trouble
   * has a likelier cause, is worth knowing but does not explain anything by itself.
   */
  secondary?: true;
}

/** Start builds of one workspace on which an agent was stuck at `created`, oldest first. */
export interface StuckRecord {
  builds: number[];
  /** When the last one was seen (clock time). */
  lastAt: number;
}

const MAX_RECORDED_BUILDS = 10;

/** The record with `buildNumber` added; the same object when it was already there. */
export function noteStuckBuild(record: StuckRecord | undefined, buildNumber: number, at: number): StuckRecord {
  if (record?.builds.includes(buildNumber)) return record;
  const builds = [...(record?.builds ?? []), buildNumber].sort((a, b) => a - b).slice(-MAX_RECORDED_BUILDS);
  return { builds, lastAt: at };
}

/** Tolerant of anything stored: what does not look like a record is no record. */
export function parseStuckRecord(json: unknown): StuckRecord | undefined {
  if (!json || typeof json !== 'object') return undefined;
  const o = json as { builds?: unknown; lastAt?: unknown };
  if (!Array.isArray(o.builds) || typeof o.lastAt !== 'number') return undefined;
  const builds = o.builds.filter((b): b is number => typeof b === 'number' && Number.isInteger(b) && b > 0);
  return builds.length ? { builds: builds.slice(-MAX_RECORDED_BUILDS), lastAt: o.lastAt } : undefined;
}

/**
 * The workspace's record after looking at it now: its latest build is added while one of its
 * agents shows the stuck signature past the threshold. Unchanged (the same object) otherwise.
 */
export function observeStuck(
  record: StuckRecord | undefined,
  ws: Workspace,
  now: number,
  stuckThresholdMs: number,
  stuckSince: (agentId: string) => number | undefined = () => undefined,
): StuckRecord | undefined {
  const b = ws.latest_build;
  if (b.transition !== 'start') return record;
  const stuck = b.resources.some((r) => r.agents.some((a) => isStuck(a, now, stuckThresholdMs, stuckSince(a.id))));
  return stuck ? noteStuckBuild(record, b.build_number, now) : record;
}

export interface DoctorInput {
  workspace: Workspace;
  agent: WorkspaceAgent;
  now: number;
  stuckThresholdMs: number;
  /**
   * When the stuck signature started, on the local clock: `Fleet.stuckSince`, the one stuck clock
   * the tree, the status bar and the reconnect decision count from (the agent's first connection
   * by the server, corrected by the deployment's clock skew). Without it: `first_connected_at` as sent.
   */
  stuckSince?: number;
  /** The agent ID this one replaced, when known (binding history). */
  previousAgentId?: string;
  /** Earlier stuck builds of this workspace (persisted by the UI across reloads). */
  record?: StuckRecord;
  /** The deployment's `/buildinfo` version. */
  deploymentVersion?: string;
}

/**
 * Whether the agent shows the stuck signature (connected, `created`) past the threshold now: the
 * classification's own rule on the given clock, so the doctor, the tree and the notice agree.
 */
export function isStuck(agent: WorkspaceAgent, now: number, stuckThresholdMs: number, stuckSince?: number): boolean {
  return classifyAgent(agent, now, { stuckSince, stuckThresholdMs }).stuck === true;
}

/**
 * What is wrong with the agent, most likely cause first; empty when nothing is. The build's own
 * failure comes before anything about its agents, whose rows then are the previous build's. An
 * outdated agent comes last, as a secondary note unless nothing else explains an unusable agent.
 */
export function diagnose(input: DoctorInput): Diagnosis[] {
  const out: Diagnosis[] = [];
  const build = diagnoseBuild(input.workspace);
  if (build) out.push(build);
  const agent = diagnoseAgent(input);
  if (agent) out.push(agent);
  const outdated = agentOutdated(input.agent, input.deploymentVersion);
  if (outdated) out.push(out.length > 0 || isUsable(input.agent) ? { ...outdated, secondary: true } : outdated);
  return out;
}

/** The likeliest cause among the diagnoses (the first that is not a secondary note), if any. */
export function mainCause<D extends { secondary?: boolean }>(diagnoses: readonly D[]): D | undefined {
  return diagnoses.find((d) => !d.secondary);
}

/** A failed or canceled latest build: the job's error. */
export function diagnoseBuild(ws: Workspace): Diagnosis | undefined {
  const b = ws.latest_build;
  const values = { build: b.build_number, transition: b.transition, error: b.job.error ?? '' };
  const log: LogRef = { kind: 'build', buildId: b.id };
  if (b.job.status === 'failed') return { code: 'build-failed', fix: 'fix-build', values, restartHelps: true, log };
  if (b.job.status === 'canceled') return { code: 'build-canceled', fix: 'build-again', values, restartHelps: true, log };
  return undefined;
}

function diagnoseAgent(input: DoctorInput): Diagnosis | undefined {
  const { agent, workspace: ws, now } = input;
  const build = ws.latest_build;
  const link = agent.troubleshooting_url || undefined;
  const withLink = (d: Diagnosis): Diagnosis => (link ? { ...d, link } : d);

  if (isStuck(agent, now, input.stuckThresholdMs, input.stuckSince)) {
    const since = input.stuckSince ?? stuckStart(agent) ?? now;
    const earlier = (input.record?.builds ?? []).filter((n) => n < build.build_number);
    const values = {
      agentId: agent.id,
      build: build.build_number,
      stuckForMs: Math.max(0, now - since),
      previousAgentId: input.previousAgentId ?? '',
    };
    const last = earlier[earlier.length - 1];
    if (last !== undefined) {
      return withLink({
        code: 'survives-restarts',
        fix: 'template-restarts-agent',
        values: { ...values, earlierBuild: last, times: earlier.length + 1 },
        restartHelps: false,
      });
    }
    // Every start build after the first gives the agent a new row: this row replaced one.
    const afterIdChange = input.previousAgentId !== undefined || build.build_number > 1;
    return withLink({ code: afterIdChange ? 'survived-build' : 'lifecycle-not-reported', fix: 'restart', values, restartHelps: true });
  }

  if (agent.status === 'connecting' || agent.status === 'timeout') {
    const created = parseTime(agent.created_at);
    const limitMs = agent.connection_timeout_seconds * 1000;
    const waited = created === undefined ? 0 : now - created;
    if (agent.status === 'timeout' || (limitMs > 0 && waited > limitMs)) {
      return withLink({
        code: 'never-connected',
        fix: 'check-build-log',
        values: { timeoutSeconds: agent.connection_timeout_seconds, waitedMs: Math.max(0, waited), build: build.build_number },
        restartHelps: true,
        log: { kind: 'build', buildId: build.id },
      });
    }
    return undefined;
  }

  if (agent.lifecycle_state === 'start_error' || agent.lifecycle_state === 'start_timeout') {
    const timedOut = agent.lifecycle_state === 'start_timeout';
    const culprits = culpritScripts(agent.scripts, timedOut);
    const first = culprits.scripts[0];
    const values: Record<string, string | number> = {
      scripts: culprits.scripts.map((s) => s.display_name || s.id || '?').join(', '),
      reported: culprits.reported ? 1 : 0,
    };
    if (first?.exit_code !== null && first?.exit_code !== undefined) values.exitCode = first.exit_code;
    if (first && first.timeout > 0) values.timeoutSeconds = first.timeout;
    const d: Diagnosis = {
      code: timedOut ? 'startup-script-timed-out' : 'startup-script-failed',
      fix: 'fix-script',
      values,
      restartHelps: true,
    };
    return withLink(first?.log_source_id ? { ...d, log: { kind: 'agent', agentId: agent.id, sourceId: first.log_source_id } } : d);
  }

  if (agent.status === 'disconnected' && agent.lifecycle_state !== 'off' && agent.lifecycle_state !== 'shutting_down') {
    const since = parseTime(agent.last_connected_at) ?? parseTime(agent.disconnected_at);
    const running = build.transition === 'start' && build.job.status === 'succeeded';
    return withLink({
      code: 'disconnected',
      fix: running ? 'check-machine' : 'start-workspace',
      values: { since: since ?? 0, workspaceStatus: build.status, running: running ? 1 : 0 },
      restartHelps: true,
    });
  }
  return undefined;
}

/**
 * The scripts that failed or ran over, by the outcomes the deployment reports; where it reports
 * none, the scripts that block login (the ones whose end the agent waited for).
 */
export function culpritScripts(scripts: readonly AgentScript[], timedOut: boolean): { scripts: AgentScript[]; reported: boolean } {
  const onStart = scripts.filter((s) => s.run_on_start);
  const exact = onStart.filter((s) => (timedOut ? s.status === 'timed_out' : s.status === 'exit_failure' || (!s.status && !!s.exit_code)));
  if (exact.length) return { scripts: exact, reported: true };
  // Outcomes are sent but none matches the lifecycle word: any script that did not end well.
  const other = onStart.filter((s) => (!!s.status && s.status !== 'ok') || !!s.exit_code);
  if (other.length) return { scripts: other, reported: true };
  const blocking = onStart.filter((s) => s.start_blocks_login);
  return { scripts: blocking.length ? blocking : onStart, reported: false };
}

/** major.minor.patch of a Coder version ("v2.24.1", "2.24.1-rc.0+abc"), or undefined. */
export function parseVersion(v: string | undefined): [number, number, number] | undefined {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec((v ?? '').trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : undefined;
}

export function compareVersions(a: [number, number, number], b: [number, number, number]): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

function agentOutdated(agent: WorkspaceAgent, deploymentVersion: string | undefined): Diagnosis | undefined {
  const mine = parseVersion(agent.version);
  const theirs = parseVersion(deploymentVersion);
  if (!mine || !theirs || compareVersions(mine, theirs) >= 0) return undefined;
  return {
    code: 'agent-outdated',
    fix: 'update-agent',
    values: { agentVersion: agent.version, deploymentVersion: deploymentVersion ?? '' },
    restartHelps: true,
  };
}

/** Whether the doctor knows a restart will not cure what it found. */
export function restartHelps(diagnoses: readonly Diagnosis[]): boolean {
  return diagnoses.every((d) => d.restartHelps);
}

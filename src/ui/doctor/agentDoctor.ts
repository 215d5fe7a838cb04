/**
 * The doctor for the UI: asks model/doctor.ts about an agent with what this editor knows (the
 * deployment's version, the fleet's stuck clock, the persisted record of earlier stuck builds),
 * keeps that record in the global stored state (a restart reloads the window; the record must
 * outlive it, and it is about the workspace, not this window), and loads the last lines of the log that goes
 * with a diagnosis once, on demand.
 */
import type * as vscode from 'vscode';
import type { Workspace, WorkspaceAgent } from '../../api/schemas';
import { errorText } from '../../api/errors';
import { Emitter, type Disposable } from '../../common/disposable';
import { diagnose, observeStuck, restartHelps, type Diagnosis, type LogRef, type StuckRecord } from '../../model/doctor';
import type { Ctx } from '../ctx';
import type { DeploymentSession } from '../deployments/deploymentSession';
import type { OpenDeployments } from '../deployments/openDeployments';
import { explain, type ExplainedDiagnosis } from './diagnosisText';

const TAIL_LINES = 8;

type Tail = { state: 'loading' } | { state: 'loaded'; lines: string[] } | { state: 'failed' };

export class AgentDoctor implements Disposable {
  private readonly records: Record<string, StuckRecord>;
  private readonly tails = new Map<string, Tail>();
  private readonly changed = new Emitter<void>();
  /** A log tail arrived or a record changed: diagnoses may read differently. */
  readonly onDidChange = this.changed.event;
  private readonly subs: vscode.Disposable[] = [];

  constructor(
    private readonly ctx: Ctx,
    sessions: OpenDeployments,
  ) {
    this.records = ctx.state.stuckBuilds;
    this.subs.push(
      sessions.onDidChange(({ session, changes }) => {
        const ids = new Set<string>();
        for (const c of changes) if ('workspaceId' in c) ids.add(c.workspaceId);
        for (const id of ids) {
          const ws = session.fleet.workspace(id);
          if (ws) this.observe(session, ws);
        }
      }),
    );
  }

  /** Records the workspace's latest build when one of its agents is stuck now. */
  observe(session: DeploymentSession, ws: Workspace): void {
    const key = recordKey(session.url, ws.id);
    const before = this.records[key];
    const after = observeStuck(before, ws, this.ctx.clock.now(), this.ctx.config.stuckThresholdMs, (id) => session.fleet.stuckSince(id));
    if (!after || after === before) return;
    this.records[key] = after;
    this.ctx.log.info(`doctor: ${ws.name} had a stuck agent on build${after.builds.length > 1 ? 's' : ''} #${after.builds.join(', #')}`);
    void this.ctx.state.setStuckBuilds(this.records);
  }

  record(session: DeploymentSession, workspaceId: string): StuckRecord | undefined {
    return this.records[recordKey(session.url, workspaceId)];
  }

  diagnose(session: DeploymentSession, ws: Workspace, agent: WorkspaceAgent): Diagnosis[] {
    this.observe(session, ws);
    return diagnose({
      workspace: ws,
      agent,
      now: this.ctx.clock.now(),
      stuckThresholdMs: this.ctx.config.stuckThresholdMs,
      stuckSince: session.fleet.stuckSince(agent.id),
      record: this.record(session, ws.id),
      deploymentVersion: session.serverVersion,
    });
  }

  /** The diagnoses in words, with the log tails loaded so far (the rest load and fire onDidChange). */
  explain(session: DeploymentSession, ws: Workspace, agent: WorkspaceAgent): ExplainedDiagnosis[] {
    const now = this.ctx.clock.now();
    return this.diagnose(session, ws, agent).map((d) => explain(d, now, d.log ? this.tail(session, d.log) : []));
  }

  /** False when the doctor knows a restart of the workspace will not cure the agent. */
  restartHelps(session: DeploymentSession, ws: Workspace, agent: WorkspaceAgent): boolean {
    return restartHelps(this.diagnose(session, ws, agent));
  }

  private tail(session: DeploymentSession, ref: LogRef): string[] {
    const key = `${session.url}|${ref.kind === 'build' ? ref.buildId : `${ref.agentId}|${ref.sourceId}`}`;
    const known = this.tails.get(key);
    if (known) return known.state === 'loaded' ? known.lines : [];
    this.tails.set(key, { state: 'loading' });
    const load = async (): Promise<string[]> => {
      if (ref.kind === 'build') return (await session.client.buildLogs(ref.buildId)).map((l) => l.output);
      return (await session.client.agentLogs(ref.agentId)).filter((l) => l.source_id === ref.sourceId).map((l) => l.output);
    };
    load().then(
      (lines) => {
        this.tails.set(key, { state: 'loaded', lines: lastLines(lines) });
        this.changed.fire();
      },
      (e: unknown) => {
        this.tails.set(key, { state: 'failed' });
        this.ctx.log.warn(`doctor: cannot read the ${ref.kind} log: ${errorText(e, session.client.secrets)}`);
      },
    );
    return [];
  }

  dispose(): void {
    for (const s of this.subs) s.dispose();
    this.changed.dispose();
  }
}

export function recordKey(url: string, workspaceId: string): string {
  return `${url}|${workspaceId}`;
}

function lastLines(lines: readonly string[]): string[] {
  return lines
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== '')
    .slice(-TAIL_LINES);
}

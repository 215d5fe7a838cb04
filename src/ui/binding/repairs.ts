/**
 * The repair operations on an agent (lifecycle replay, reinitialization) and the fallback the
 * public API offers (restart: a stop build, then a start build), with progress, bounds and
 * clear results. Replay and reinit are in no Coder release: a 404/405/501 answer is remembered
 * per deployment and server version (model/operations.ts, kept across reloads), and only what
 * works is offered instead.
 */
import * as vscode from 'vscode';
import { CoderApiError, errorText, isUnsupported } from '../../api/errors';
import type { WorkspaceAgent } from '../../api/schemas';
import type { AgentKey } from '../../model/agentKey';
import { formatDuration } from '../../model/lifecycle';
import type { RepairOp } from '../../model/operations';
import type { Ctx } from '../ctx';
import type { DeploymentSession } from '../deployments/deploymentSession';
import type { AgentDoctor } from '../doctor/agentDoctor';
import { offersFor } from '../doctor/offers';
import { devContainerRecreateFor } from './devContainerHook';

/** An agent of an open deployment, by its key (so it follows ID changes). */
export interface AgentRef extends AgentKey {
  readonly session: DeploymentSession;
}

const OP_TITLE: Record<RepairOp, string> = { replay: 'lifecycle replay', reinitialize: 'reinitialization' };

export function agentOfRef(ref: AgentRef): WorkspaceAgent | undefined {
  return ref.session.fleet.findAgent(ref.workspaceId, ref.name, ref.parentName);
}

export function labelOf(ref: AgentRef): string {
  return `${ref.session.fleet.workspace(ref.workspaceId)?.name ?? '?'}.${ref.name}`;
}

/** Asks the deployment for the operation. */
export async function requestRepair(
  ctx: Ctx,
  ref: AgentRef,
  op: RepairOp,
): Promise<{ outcome: 'started' | 'unsupported' | 'failed'; error?: string }> {
  const agent = agentOfRef(ref);
  if (!agent) return { outcome: 'failed', error: vscode.l10n.t('agent {0} is not in the latest build', ref.name) };
  const { url } = ref.session;
  if (ctx.operations.get(url, op) === 'unsupported') {
    ctx.log.info(`${url}: ${OP_TITLE[op]} is known to be missing on this deployment; not asked again`);
    return { outcome: 'unsupported' };
  }
  try {
    const r = op === 'replay' ? await ref.session.client.replayLifecycle(agent.id) : await ref.session.client.reinitializeAgent(agent.id);
    if (ctx.operations.recordAnswer(url, op, r.status)) ctx.rememberOperations();
    ctx.log.info(`${labelOf(ref)}: ${OP_TITLE[op]} requested for agent ${agent.id}`);
    return { outcome: 'started' };
  } catch (e) {
    const error = errorText(e, ref.session.client.secrets);
    if (e instanceof CoderApiError && ctx.operations.recordAnswer(url, op, e.status)) ctx.rememberOperations();
    if (isUnsupported(e)) {
      ctx.log.warn(
        `${url}: the deployment does not offer ${OP_TITLE[op]} (${error}); remembered for ${ctx.operations.serverVersion(url) ?? 'this version'}`,
      );
      return { outcome: 'unsupported', error };
    }
    ctx.log.error(`${labelOf(ref)}: ${OP_TITLE[op]} failed: ${error}`);
    return { outcome: 'failed', error };
  }
}

/**
 * Resolves with the time it took once the agent (followed by name, so across ID changes) is
 * connected and ready after having left `ready`; rejects on timeout or cancellation.
 */
export function waitUntilReady(ctx: Ctx, ref: AgentRef, timeoutMs: number, token?: vscode.CancellationToken): Promise<number> {
  const started = ctx.clock.now();
  let left = agentOfRef(ref)?.lifecycle_state !== 'ready';
  return new Promise<number>((resolve, reject) => {
    const done = (fn: () => void) => {
      sub.dispose();
      timer.cancel();
      cancel?.dispose();
      fn();
    };
    const check = () => {
      const a = agentOfRef(ref);
      if (!a) return;
      if (a.lifecycle_state !== 'ready') left = true;
      else if (left && a.status === 'connected') done(() => resolve(ctx.clock.now() - started));
    };
    const sub = ref.session.onDidChange(check);
    const timer = ctx.clock.setTimeout(
      () => done(() => reject(new Error(vscode.l10n.t('{0} was not ready within {1}', labelOf(ref), formatDuration(timeoutMs))))),
      timeoutMs,
    );
    const cancel = token?.onCancellationRequested(() => done(() => reject(new vscode.CancellationError())));
    check();
  });
}

/** The palette/tree command: request, wait with progress, report; offer a restart when unsupported. */
export async function runRepairCommand(ctx: Ctx, doctor: AgentDoctor, ref: AgentRef, op: RepairOp): Promise<void> {
  const label = labelOf(ref);
  const title = op === 'replay' ? vscode.l10n.t('Replaying the lifecycle of {0}', label) : vscode.l10n.t('Reinitializing {0}', label);
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title, cancellable: true },
    async (progress, token) => {
      const r = await requestRepair(ctx, ref, op);
      if (r.outcome !== 'started') return r;
      progress.report({ message: vscode.l10n.t('waiting for the agent to be ready...') });
      try {
        const ms = await waitUntilReady(ctx, ref, ctx.config.reconnectTimeoutMs, token);
        return { outcome: 'ready' as const, ms };
      } catch (e) {
        if (e instanceof vscode.CancellationError) return { outcome: 'cancelled' as const };
        return { outcome: 'failed' as const, error: e instanceof Error ? e.message : String(e) };
      }
    },
  );
  switch (result.outcome) {
    case 'ready':
      ctx.log.info(`${label}: ready after ${(result.ms / 1000).toFixed(1)} s`);
      void vscode.window.showInformationMessage(vscode.l10n.t('Agent {0} is ready after {1} s.', label, (result.ms / 1000).toFixed(1)));
      return;
    case 'unsupported':
      await offerWhatWorks(ctx, doctor, ref, op);
      return;
    case 'cancelled':
      ctx.log.info(`${label}: stopped waiting (cancelled)`);
      return;
    default:
      void vscode.window
        .showErrorMessage(vscode.l10n.t('{0}: {1}', label, result.error ?? vscode.l10n.t('failed')), vscode.l10n.t('Show Logs'))
        .then((a) => {
          if (a) ctx.log.show(true);
        });
  }
}

/**
 * On a deployment without the route: one sentence saying so, and the actions that work for this
 * agent (the dev container's recreate, the other route if not known missing, a restart unless the
 * doctor knows it will not help).
 */
export async function offerWhatWorks(ctx: Ctx, doctor: AgentDoctor, ref: AgentRef, op: RepairOp): Promise<void> {
  const ws = ref.session.fleet.workspace(ref.workspaceId);
  const agent = agentOfRef(ref);
  const sentence =
    op === 'replay'
      ? vscode.l10n.t("This deployment cannot replay an agent's lifecycle.")
      : vscode.l10n.t('This deployment cannot reinitialize an agent.');
  const offers = ws && agent ? offersFor(ctx, doctor, ref.session, ws, agent).filter((o) => o !== op) : [];
  const words: Record<string, string> = {
    recreate: vscode.l10n.t('Rebuild Dev Container'),
    replay: vscode.l10n.t('Replay Lifecycle'),
    reinitialize: vscode.l10n.t('Reinitialize Agent'),
    restart: vscode.l10n.t('Restart Workspace'),
  };
  const copy = vscode.l10n.t('Copy Diagnostics');
  const buttons = [...offers.map((o) => words[o] ?? o), copy];
  ctx.log.info(`${labelOf(ref)}: ${OP_TITLE[op]} is not offered here; offering ${offers.join(', ') || 'nothing'}`);
  const choice = await vscode.window.showWarningMessage(sentence, ...buttons);
  const picked = offers.find((o) => words[o] === choice);
  if (choice === copy && agent) await vscode.commands.executeCommand('coderStatus.copyDiagnostics', agent.id);
  else if (picked === 'recreate' && ws && agent) await devContainerRecreateFor(ref.session, ws.id, agent)?.run();
  else if (picked === 'restart') await offerRestart(ctx, ref, sentence);
  else if (picked === 'replay' || picked === 'reinitialize') await runRepairCommand(ctx, doctor, ref, picked);
}

/** The public API's repair: restart the workspace, after a modal confirmation. */
export async function offerRestart(ctx: Ctx, ref: Pick<AgentRef, 'session' | 'workspaceId'>, why: string): Promise<boolean> {
  const ws = ref.session.fleet.workspace(ref.workspaceId);
  if (!ws) return false;
  const restart = vscode.l10n.t('Restart Workspace');
  const choice = await vscode.window.showWarningMessage(
    vscode.l10n.t('Restart workspace {0}?', ws.name),
    {
      modal: true,
      detail: vscode.l10n.t(
        '{0} A restart stops and starts the workspace: its agent gets a new ID, and this window reconnects to it.',
        why,
      ),
    },
    restart,
  );
  if (choice !== restart) {
    ctx.log.info(`restart of ${ws.name} declined`);
    return false;
  }
  await restartWorkspace(ctx, ref.session, ref.workspaceId);
  return true;
}

/** Stop build, wait for it to succeed (bounded), then start build. */
export async function restartWorkspace(ctx: Ctx, session: DeploymentSession, workspaceId: string): Promise<void> {
  const name = session.fleet.workspace(workspaceId)?.name ?? workspaceId;
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Restarting {0}', name) },
    async (progress) => {
      progress.report({ message: vscode.l10n.t('stopping...') });
      const stop = await session.client.createBuild(workspaceId, 'stop');
      ctx.log.info(`${name}: stop build #${stop.build_number} requested`);
      await waitForBuild(ctx, session, workspaceId, stop.build_number, 10 * 60_000);
      progress.report({ message: vscode.l10n.t('starting...') });
      const start = await session.client.createBuild(workspaceId, 'start');
      ctx.log.info(`${name}: start build #${start.build_number} requested`);
    },
  );
}

function waitForBuild(ctx: Ctx, session: DeploymentSession, workspaceId: string, buildNumber: number, timeoutMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const check = () => {
      const b = session.fleet.workspace(workspaceId)?.latest_build;
      if (!b || b.build_number < buildNumber) return;
      if (b.build_number > buildNumber || b.job.status === 'succeeded') finish(() => resolve());
      else if (b.job.status === 'failed' || b.job.status === 'canceled')
        finish(() =>
          reject(
            new Error(
              b.job.error
                ? vscode.l10n.t('build #{0} {1}: {2}', buildNumber, b.job.status, b.job.error)
                : vscode.l10n.t('build #{0} {1}', buildNumber, b.job.status),
            ),
          ),
        );
    };
    const finish = (fn: () => void) => {
      sub.dispose();
      timer.cancel();
      fn();
    };
    const sub = session.onDidChange(check);
    const timer = ctx.clock.setTimeout(
      () => finish(() => reject(new Error(vscode.l10n.t('build #{0} did not finish in time', buildNumber)))),
      timeoutMs,
    );
    check();
  });
}

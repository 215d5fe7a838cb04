/**
 * "Rebuild Dev Container" (the container row, a dev-container sub-agent, or a pick), and
 * Reinitialize Agent on a dev-container sub-agent, which is the same real operation: the
 * deployment recreates the container and its sub-agent comes back (under a new ID when the agent
 * injected it). Progress in a cancellable notification until the sub-agent is ready, bounded by
 * `coderStatus.devcontainer.rebuildTimeout`.
 */
import * as vscode from 'vscode';
import { DevcontainerError } from '../../api/devcontainers';
import type { Devcontainer } from '../../api/devcontainerSchemas';
import type { WorkspaceAgent } from '../../api/schemas';
import { formatDuration } from '../../model/lifecycle';
import { rebuildDevcontainer, type RebuildResult } from '../../sync/devcontainerRebuild';
import type { AgentRef } from '../binding/repairs';
import type { Ctx } from '../ctx';
import type { DeploymentSession } from '../deployments/deploymentSession';
import type { AgentCommandDeps } from './agentCommands';
import { UserRefusal } from './commandTable';
import { setDevContainerRecreateProvider } from '../binding/devContainerHook';
import type { Disposable } from '../../common/disposable';

export interface DevcontainerRef {
  session: DeploymentSession;
  workspaceId: string;
  /** Name of the top-level agent that runs the dev container. */
  parentName: string;
  name: string;
}

function resolve(ref: DevcontainerRef): { dc: Devcontainer; parent: WorkspaceAgent } | undefined {
  const parent = ref.session.fleet.findAgent(ref.workspaceId, ref.parentName, null);
  const dc = parent && ref.session.devcontainers.of(parent.id).find((d) => d.name === ref.name);
  return parent && dc ? { dc, parent } : undefined;
}

/** The dev container a sub-agent belongs to, if any. */
export function devcontainerOfAgent(ref: AgentRef): DevcontainerRef | undefined {
  if (ref.parentName === null) return undefined;
  const sub = ref.session.fleet.findAgent(ref.workspaceId, ref.name, ref.parentName);
  const dc = sub?.parent_id ? ref.session.devcontainers.devcontainerOf(sub.parent_id, sub) : undefined;
  return dc ? { session: ref.session, workspaceId: ref.workspaceId, parentName: ref.parentName, name: dc.name } : undefined;
}

function refOfArg(d: AgentCommandDeps, arg: unknown): DevcontainerRef | undefined {
  if (typeof arg !== 'object' || arg === null || !('kind' in arg) || !('session' in arg)) return undefined;
  const n = arg as { kind: string; session: DeploymentSession; workspaceId?: string; name?: string; parentName?: string | null };
  if (!n.workspaceId || !n.name || !d.sessions.list().includes(n.session)) return undefined;
  if (n.kind === 'devcontainer' && n.parentName)
    return { session: n.session, workspaceId: n.workspaceId, parentName: n.parentName, name: n.name };
  if (n.kind === 'agent')
    return devcontainerOfAgent({ session: n.session, workspaceId: n.workspaceId, name: n.name, parentName: n.parentName ?? null });
  return undefined;
}

async function pickDevcontainer(d: AgentCommandDeps, arg: unknown): Promise<DevcontainerRef | undefined> {
  const direct = refOfArg(d, arg);
  if (direct) return direct;
  const items: (vscode.QuickPickItem & { ref: DevcontainerRef })[] = [];
  for (const session of d.sessions.list()) {
    for (const ws of session.fleet.workspaces()) {
      for (const parent of session.fleet.topLevelAgents(ws.id)) {
        for (const dc of session.devcontainers.of(parent.id)) {
          items.push({
            label: `${ws.name}.${parent.name}: ${dc.name}`,
            description: `${dc.status}${dc.dirty ? ', configuration changed' : ''}`,
            detail: dc.workspace_folder,
            ref: { session, workspaceId: ws.id, parentName: parent.name, name: dc.name },
          });
        }
      }
    }
  }
  if (items.length === 0)
    throw new UserRefusal(vscode.l10n.t('No dev containers are known: they are shown for the bound and the visible workspaces.'));
  return (await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Rebuild Dev Container') }))?.ref;
}

/** Recreate, wait with progress, report. */
export async function runDevcontainerRebuild(ctx: Ctx, ref: DevcontainerRef): Promise<void> {
  const hit = resolve(ref);
  if (!hit) throw new Error(vscode.l10n.t('The dev container {0} is not known (any more).', ref.name));
  const { dc, parent } = hit;
  const { session } = ref;
  const subAgentName = session.devcontainers.subAgentName(dc);
  const label = `${session.fleet.workspace(ref.workspaceId)?.name ?? '?'}.${parent.name}: ${dc.name}`;
  const timeoutMs = ctx.config.devcontainerRebuildTimeoutMs;
  ctx.log.info(`${label}: rebuild of dev container ${dc.id} requested`);
  const outcome = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Rebuilding dev container {0}', dc.name), cancellable: true },
    async (progress, token): Promise<RebuildResult | DevcontainerError> => {
      const ctrl = new AbortController();
      const sub = token.onCancellationRequested(() => ctrl.abort());
      try {
        return await rebuildDevcontainer(
          { client: session.client, fleet: session.fleet, store: session.devcontainers, clock: ctx.clock, onChanges: session.onDidChange },
          { workspaceId: ref.workspaceId, parentAgentId: parent.id, devcontainerId: dc.id, subAgentName, parentName: parent.name },
          timeoutMs,
          {
            signal: ctrl.signal,
            onRequested: () =>
              progress.report({
                message: subAgentName
                  ? vscode.l10n.t('waiting for {0} to be ready...', subAgentName)
                  : vscode.l10n.t('waiting for the container...'),
              }),
          },
        );
      } catch (e) {
        return e instanceof DevcontainerError ? e : new DevcontainerError('failed', e instanceof Error ? e.message : String(e));
      } finally {
        sub.dispose();
      }
    },
  );
  report(ctx, label, dc, outcome, timeoutMs);
}

function report(ctx: Ctx, label: string, dc: Devcontainer, r: RebuildResult | DevcontainerError, timeoutMs: number): void {
  if (r instanceof DevcontainerError) {
    ctx.log.warn(`${label}: rebuild refused or failed (${r.kind}): ${r.message}`);
    const text: Record<DevcontainerError['kind'], string> = {
      transitioning: vscode.l10n.t('The dev container {0} is already changing; try again once it is done.', dc.name),
      disabled: vscode.l10n.t('Dev containers are not enabled on the agent that runs {0}.', dc.name),
      'not-connected': vscode.l10n.t('The agent that runs {0} is not connected: the dev container cannot be rebuilt now.', dc.name),
      'unknown-devcontainer': vscode.l10n.t('The dev container {0} no longer exists on the agent.', dc.name),
      unsupported: vscode.l10n.t('This deployment does not offer dev container rebuilds.'),
      'agent-timeout': vscode.l10n.t('The agent that runs {0} did not answer in time.', dc.name),
      failed: vscode.l10n.t('Rebuilding {0} failed: {1}', dc.name, r.message),
    };
    const show = r.kind === 'failed' ? vscode.window.showErrorMessage : vscode.window.showWarningMessage;
    void show(`Coder: ${text[r.kind]}`, vscode.l10n.t('Show Logs')).then((a) => {
      if (a) ctx.log.show(true);
    });
    return;
  }
  switch (r.kind) {
    case 'ready': {
      const secs = (r.ms / 1000).toFixed(1);
      const moved =
        r.previousAgentId && r.agentId && r.previousAgentId !== r.agentId ? ` (agent ID ${r.previousAgentId} -> ${r.agentId})` : '';
      ctx.log.info(`${label}: rebuilt, sub-agent ready after ${secs} s${moved}`);
      void vscode.window.showInformationMessage(vscode.l10n.t('Dev container {0} is rebuilt and ready after {1} s.', dc.name, secs));
      return;
    }
    case 'timeout':
      ctx.log.warn(`${label}: not ready within ${formatDuration(timeoutMs)}`);
      void vscode.window.showWarningMessage(
        vscode.l10n.t('Dev container {0} was not ready within {1}; it may still be building.', dc.name, formatDuration(timeoutMs)),
      );
      return;
    case 'cancelled':
      ctx.log.info(`${label}: stopped waiting for the rebuild (cancelled)`);
      return;
  }
}

/** `coderStatus.rebuildDevContainer`. */
export const rebuildDevContainer = (d: AgentCommandDeps) => async (arg: unknown) => {
  const ref = await pickDevcontainer(d, arg);
  if (ref) await runDevcontainerRebuild(d.ctx, ref);
};

/** Reinitialize Agent on a dev-container sub-agent rebuilds its container; true when it did. */
export async function reinitializeIfDevcontainer(ctx: Ctx, ref: AgentRef): Promise<boolean> {
  const dc = devcontainerOfAgent(ref);
  if (!dc) return false;
  ctx.log.info(`${ref.name} runs in dev container ${dc.name}: reinitializing means rebuilding it`);
  await runDevcontainerRebuild(ctx, dc);
  return true;
}

/** The rebuild, offered wherever repairs are offered (the doctor's offers, the stuck notice, the replay fallback). */
export function provideDevcontainerRecreate(ctx: Ctx): Disposable {
  return setDevContainerRecreateProvider((session, workspaceId, agent) => {
    const parentName = agent.parent_id ? session.fleet.agentsOf(workspaceId).find((a) => a.id === agent.parent_id)?.name : undefined;
    const dc = parentName ? devcontainerOfAgent({ session, workspaceId, name: agent.name, parentName }) : undefined;
    return dc ? { run: () => runDevcontainerRebuild(ctx, dc) } : undefined;
  });
}

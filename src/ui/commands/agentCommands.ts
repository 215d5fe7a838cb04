/**
 * Commands on agents and workspaces beyond viewing: replay lifecycle, reinitialize, reconnect,
 * bind/unbind, start/stop/restart. They accept a tree node, an agent or workspace ID (from the
 * details panel), or nothing (a quick pick, the bound agent first).
 */
import * as vscode from 'vscode';
import type { WindowBinding } from '../binding/windowBinding';
import type { Ctx } from '../ctx';
import type { ReconnectDriver } from '../binding/reconnectDriver';
import { pickedIsBound, sameAgentOf } from '../../model/agentKey';
import { labelOf, offerRestart, restartWorkspace, runRepairCommand, type AgentRef } from '../binding/repairs';
import type { DeploymentSession } from '../deployments/deploymentSession';
import type { OpenDeployments } from '../deployments/openDeployments';
import type { AgentDoctor } from '../doctor/agentDoctor';
import { copyDiagnostics } from '../doctor/copyDiagnostics';
import { UserRefusal, type CommandHandler, type CommandTable } from './commandTable';
import { rebuildDevContainer, reinitializeIfDevcontainer } from './devcontainerCommands';

export interface AgentCommandDeps {
  ctx: Ctx;
  sessions: OpenDeployments;
  bound: WindowBinding;
  driver: ReconnectDriver;
  doctor: AgentDoctor;
}

interface NodeLike {
  kind: string;
  session: DeploymentSession;
  workspaceId?: string;
  name?: string;
  parentName?: string | null;
}

function isNode(arg: unknown): arg is NodeLike {
  return typeof arg === 'object' && arg !== null && 'kind' in arg && 'session' in arg;
}

function refOfAgentId(d: AgentCommandDeps, id: string): AgentRef | undefined {
  for (const session of d.sessions.list()) {
    const hit = session.fleet.agentById(id);
    if (hit)
      return {
        session,
        workspaceId: hit.workspace.id,
        name: hit.agent.name,
        parentName: session.fleet.parentNameOf(hit.workspace.id, hit.agent),
      };
  }
  return undefined;
}

function boundRef(d: AgentCommandDeps): AgentRef | undefined {
  return d.bound.agent;
}

/** The agent a command is about: its argument, else a quick pick with the bound agent first. */
async function pickAgent(d: AgentCommandDeps, arg: unknown, title: string): Promise<AgentRef | undefined> {
  if (isNode(arg) && arg.kind === 'agent' && arg.workspaceId && arg.name) {
    return { session: arg.session, workspaceId: arg.workspaceId, name: arg.name, parentName: arg.parentName ?? null };
  }
  if (typeof arg === 'string') {
    const ref = refOfAgentId(d, arg);
    if (!ref) throw new UserRefusal(vscode.l10n.t('No agent with ID {0} in the latest builds.', arg));
    return ref;
  }
  const bound = boundRef(d);
  const items: (vscode.QuickPickItem & { ref: AgentRef })[] = [];
  for (const session of d.sessions.list()) {
    for (const ws of session.fleet.workspaces()) {
      for (const a of session.fleet.agentsOf(ws.id)) {
        const ref = { session, workspaceId: ws.id, name: a.name, parentName: session.fleet.parentNameOf(ws.id, a) };
        const isBound = sameAgentOf(bound, ref);
        const item = {
          label: `${ws.name}.${a.name}`,
          description: isBound
            ? vscode.l10n.t('{0}, {1} · bound', a.lifecycle_state, a.status)
            : vscode.l10n.t('{0}, {1}', a.lifecycle_state, a.status),
          detail: `${ws.owner_name} · ${new URL(session.url).host}`,
          ref,
        };
        if (isBound) items.unshift(item);
        else items.push(item);
      }
    }
  }
  if (items.length === 0) throw new UserRefusal(vscode.l10n.t('No agents are known yet: sign in, or check the workspace filter.'));
  return (await vscode.window.showQuickPick(items, { title, matchOnDescription: true, matchOnDetail: true }))?.ref;
}

async function pickWorkspace(
  d: AgentCommandDeps,
  arg: unknown,
  title: string,
): Promise<{ session: DeploymentSession; workspaceId: string } | undefined> {
  if (isNode(arg) && arg.workspaceId) return { session: arg.session, workspaceId: arg.workspaceId };
  if (typeof arg === 'string') {
    const session = d.sessions.list().find((s) => s.fleet.workspace(arg));
    if (!session) throw new UserRefusal(vscode.l10n.t('No workspace with ID {0}.', arg));
    return { session, workspaceId: arg };
  }
  const b = d.bound.bound;
  const items = d.sessions.list().flatMap((session) =>
    session.fleet.workspaces().map((ws) => ({
      label: ws.name,
      description:
        b?.session === session && b.workspaceId === ws.id
          ? vscode.l10n.t('{0} · {1} · bound', ws.owner_name, ws.latest_build.status)
          : `${ws.owner_name} · ${ws.latest_build.status}`,
      target: { session, workspaceId: ws.id },
    })),
  );
  if (items.length === 0) throw new UserRefusal(vscode.l10n.t('No workspaces are known yet.'));
  return (await vscode.window.showQuickPick(items, { title }))?.target;
}

type Factory = (d: AgentCommandDeps) => CommandHandler;

const repair =
  (op: 'replay' | 'reinitialize'): Factory =>
  (d) =>
  async (arg) => {
    const ref = await pickAgent(d, arg, op === 'replay' ? vscode.l10n.t('Replay Agent Lifecycle') : vscode.l10n.t('Reinitialize Agent'));
    if (!ref) return;
    // On a dev-container sub-agent the deployment offers a real reinitialization: the rebuild.
    if (op === 'reinitialize' && (await reinitializeIfDevcontainer(d.ctx, ref))) return;
    await runRepairCommand(d.ctx, d.doctor, ref, op);
  };

const build =
  (transition: 'start' | 'stop'): Factory =>
  (d) =>
  async (arg) => {
    const t = await pickWorkspace(d, arg, transition === 'start' ? vscode.l10n.t('Start Workspace') : vscode.l10n.t('Stop Workspace'));
    if (!t) return;
    const name = t.session.fleet.workspace(t.workspaceId)?.name ?? t.workspaceId;
    const b = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Requesting a {0} build of {1}', transition, name) },
      () => t.session.client.createBuild(t.workspaceId, transition),
    );
    d.ctx.log.info(`${name}: ${transition} build #${b.build_number} requested`);
  };

const restart: Factory = (d) => async (arg) => {
  const t = await pickWorkspace(d, arg, vscode.l10n.t('Restart Workspace'));
  if (!t) return;
  const bound = d.bound.bound;
  if (bound?.session === t.session && bound.workspaceId === t.workspaceId) {
    await offerRestart(d.ctx, t, vscode.l10n.t('This window is bound to this workspace.'));
  } else {
    await restartWorkspace(d.ctx, t.session, t.workspaceId);
  }
};

const bind: Factory = (d) => async (arg) => {
  const ref = await pickAgent(d, arg, vscode.l10n.t('Bind Window to Agent'));
  if (!ref) return;
  const ws = ref.session.fleet.workspace(ref.workspaceId);
  if (!ws) return;
  await d.ctx.state.setPickedBinding({
    owner: ws.owner_name,
    workspace: ws.name,
    agent: ref.name,
    url: ref.session.url,
  });
  d.ctx.log.info(`bound this window to ${ws.owner_name}/${ws.name}.${ref.name} (picked)`);
  d.bound.reload();
  if (d.ctx.config.binding || process.env['CODER_WORKSPACE_NAME']) {
    void vscode.window.showInformationMessage(
      vscode.l10n.t('Saved. Note: coderStatus.binding or the workspace environment takes precedence over a picked agent.'),
    );
  }
};

const unbind: Factory = (d) => async () => {
  await d.ctx.state.setPickedBinding(undefined);
  d.ctx.log.info('unbound this window (picked binding cleared)');
  d.bound.reload();
};

const reconnect: Factory = (d) => async (arg) => {
  if (typeof arg === 'string' || isNode(arg)) {
    const ref = await pickAgent(d, arg, vscode.l10n.t('Reconnect'));
    const b = boundRef(d);
    if (ref && b && !pickedIsBound(ref, b)) {
      throw new UserRefusal(vscode.l10n.t('{0} is not the agent this window is bound to.', labelOf(ref)));
    }
  }
  await d.driver.reconnectNow();
};

const copy: Factory = (d) => async (arg) => {
  const ref = await pickAgent(d, arg, vscode.l10n.t('Copy Diagnostics'));
  if (ref) await copyDiagnostics(d.ctx, d.doctor, d.driver, ref);
};

const FACTORIES: Record<string, Factory> = {
  'coderStatus.copyDiagnostics': copy,
  'coderStatus.replayLifecycle': repair('replay'),
  'coderStatus.reinitializeAgent': repair('reinitialize'),
  'coderStatus.startWorkspace': build('start'),
  'coderStatus.stopWorkspace': build('stop'),
  'coderStatus.restartWorkspace': restart,
  'coderStatus.bindAgent': bind,
  'coderStatus.unbind': unbind,
  'coderStatus.reconnect': reconnect,
  'coderStatus.rebuildDevContainer': rebuildDevContainer,
};

export function agentCommands(d: AgentCommandDeps): CommandTable {
  return Object.fromEntries(Object.entries(FACTORIES).map(([id, f]) => [id, f(d)]));
}

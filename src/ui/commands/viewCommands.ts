/**
 * The viewing commands (details, refresh, logs, copy ID, open in browser), as factories
 * `(deps) => handler`; registered with the others through `registerCommandTable`.
 */
import * as vscode from 'vscode';
import type { WindowBinding } from '../binding/windowBinding';
import type { Ctx } from '../ctx';
import { refOfNode, type AgentDetails } from '../details/command';
import type { DeploymentSession } from '../deployments/deploymentSession';
import type { OpenDeployments } from '../deployments/openDeployments';
import { VIEW_ID } from '../views/tree';
import { agentOf, type TreeNode } from '../views/treeNodes';
import { UserRefusal, type CommandHandler, type CommandTable } from './commandTable';

export interface CommandDeps {
  ctx: Ctx;
  sessions: OpenDeployments;
  bound: WindowBinding;
  details: AgentDetails;
}

type Factory = (d: CommandDeps) => CommandHandler;

const refresh: Factory = (d) => () =>
  vscode.window.withProgress({ location: { viewId: VIEW_ID } }, async () => {
    const all = d.sessions.list();
    d.ctx.log.info(`refresh requested (${all.length} deployment(s))`);
    await Promise.all(all.map((s) => s.sync.refresh()));
  });

const showLogs: Factory = (d) => () => d.ctx.log.show(true);

const copyAgentId: Factory = (d) => async (arg) => {
  const target = agentTarget(d, arg);
  await vscode.env.clipboard.writeText(target.id);
  d.ctx.log.info(`copied agent ID ${target.id} (${target.label})`);
  void vscode.window.showInformationMessage(vscode.l10n.t('Copied the agent ID of {0}: {1}', target.label, target.id));
};

const openInBrowser: Factory = (d) => async (arg) => {
  const target = await workspaceTarget(d, arg);
  if (!target) return;
  const url = `${target.session.url}/@${encodeURIComponent(target.owner)}/${encodeURIComponent(target.name)}`;
  d.ctx.log.info(`opening ${url}`);
  await vscode.env.openExternal(vscode.Uri.parse(url));
};

const NOT_BOUND = () => vscode.l10n.t('Pick an agent in the Workspace Agents view: this window is not bound to an agent.');

function isNode(arg: unknown): arg is TreeNode {
  return typeof arg === 'object' && arg !== null && 'kind' in arg && 'session' in arg;
}

function agentTarget(d: CommandDeps, arg: unknown): { id: string; label: string } {
  if (isNode(arg) && arg.kind === 'agent') {
    const a = agentOf(arg);
    if (!a) throw new UserRefusal(vscode.l10n.t("The agent {0} is no longer in its workspace's latest build.", arg.name));
    return { id: a.id, label: arg.name };
  }
  const b = d.bound.bound;
  const a = b?.agentName ? b.session.fleet.findAgent(b.workspaceId, b.agentName, b.parentName) : undefined;
  if (!b || !a) throw new UserRefusal(NOT_BOUND());
  return { id: a.id, label: `${b.session.fleet.workspace(b.workspaceId)?.name ?? '?'}.${a.name}` };
}

interface WorkspaceTarget {
  session: DeploymentSession;
  owner: string;
  name: string;
}

async function workspaceTarget(d: CommandDeps, arg: unknown): Promise<WorkspaceTarget | undefined> {
  const of = (session: DeploymentSession, id: string): WorkspaceTarget | undefined => {
    const ws = session.fleet.workspace(id);
    return ws && { session, owner: ws.owner_name, name: ws.name };
  };
  if (isNode(arg) && arg.kind !== 'deployment') {
    const t = of(arg.session, arg.workspaceId);
    if (!t) throw new UserRefusal(vscode.l10n.t('This workspace is no longer listed.'));
    return t;
  }
  const b = d.bound.bound;
  if (b) return of(b.session, b.workspaceId);
  const items = d.sessions.list().flatMap((s) =>
    s.fleet.workspaces().map((w) => ({
      label: w.name,
      description: `${w.owner_name} · ${new URL(s.url).host}`,
      target: { session: s, owner: w.owner_name, name: w.name },
    })),
  );
  if (items.length === 0) throw new UserRefusal(vscode.l10n.t('No workspaces are known yet: sign in, or check the workspace filter.'));
  const picked = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Open Workspace in Browser'), matchOnDescription: true });
  return picked?.target;
}

const showDetails: Factory = (d) => (arg) => {
  if (isNode(arg) && arg.kind === 'agent') return d.details.show(refOfNode(arg));
  const b = d.bound.bound;
  if (!b?.agentName) throw new UserRefusal(NOT_BOUND());
  return d.details.show({ session: b.session, workspaceId: b.workspaceId, name: b.agentName, parentName: b.parentName });
};

const FACTORIES: Record<string, Factory> = {
  'coderStatus.showDetails': showDetails,
  'coderStatus.refresh': refresh,
  'coderStatus.showLogs': showLogs,
  'coderStatus.copyAgentId': copyAgentId,
  'coderStatus.openInBrowser': openInBrowser,
};

export function viewCommands(d: CommandDeps): CommandTable {
  return Object.fromEntries(Object.entries(FACTORIES).map(([id, f]) => [id, f(d)]));
}

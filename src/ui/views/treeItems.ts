/** Tree nodes -> vscode.TreeItem: labels, descriptions, icons, context values and tooltips. */
import * as vscode from 'vscode';
import type { Workspace, WorkspaceAgent } from '../../api/schemas';
import type { Fleet } from '../../model/fleet';
import { classifyWorkspace, formatDuration, shortId } from '../../model/lifecycle';
import type { Classification } from '../../model/types';
import { classifyIn } from './classify';
import { labelText } from './classificationText';
import { severityIcon } from './severity';
import type { AgentDoctor } from '../doctor/agentDoctor';
import type { RepairAction } from '../../model/repairOffers';
import type { DeploymentSession } from '../deployments/deploymentSession';
import { agentTooltip, deploymentTooltip, workspaceTooltip } from './tooltips';
import type { AgentNode, DeploymentNode, WorkspaceNode } from './treeNodes';

export interface RenderContext {
  now: number;
  stuckThresholdMs: number;
  /** True when this agent is the one the window is bound to. */
  isBound(node: AgentNode): boolean;
  doctor: AgentDoctor;
  /** The repairs that work for the agent here (the row's menu shows only those). */
  offers(session: DeploymentSession, ws: Workspace, agent: WorkspaceAgent): readonly RepairAction[];
}

const BUILDING = new Set(['pending', 'running', 'canceling']);
const CAN_START = new Set(['stopped', 'failed', 'canceled']);
const CAN_STOP = new Set(['running', 'starting']);

export function deploymentItem(node: DeploymentNode, now: number): vscode.TreeItem {
  const { session } = node;
  const item = new vscode.TreeItem(hostOf(session.url), vscode.TreeItemCollapsibleState.Expanded);
  item.id = session.url;
  const conn = session.fleet.connection;
  item.description = conn.kind === 'live' ? (session.username ?? '') : connectionWord(conn.kind);
  item.iconPath = new vscode.ThemeIcon(conn.kind === 'offline' ? 'cloud-offline' : conn.kind === 'signed-out' ? 'account' : 'cloud');
  item.contextValue = `deployment.${conn.kind}`;
  item.tooltip = deploymentTooltip(session, now);
  return item;
}

export function workspaceItem(node: WorkspaceNode, ws: Workspace, now: number): vscode.TreeItem {
  const { session } = node;
  const c = classifyWorkspace(ws);
  const hasAgents = session.fleet.topLevelAgents(ws.id).length > 0;
  const item = new vscode.TreeItem(ws.name, hasAgents ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
  // A workspace without agents (stopped, or mid-rebuild) gets another id: VS Code would otherwise
  // remember it as collapsed, and the agents would stay hidden when the rebuild brings them back.
  item.id = `${session.url}\n${ws.id}${hasAgents ? '' : '\nno-agents'}`;
  const build = ws.latest_build;
  const building = BUILDING.has(build.job.status);
  const parts: string[] = [];
  if (session.username && ws.owner_name !== session.username) parts.push(ws.owner_name);
  parts.push(labelText(c));
  if (building && !c.label.includes(build.job.status)) parts.push(vscode.l10n.t('{0} build {1}', build.transition, build.job.status));
  if (ws.outdated) parts.push(vscode.l10n.t('outdated'));
  item.description = parts.join(' · ');
  item.iconPath = severityIcon(c);
  item.contextValue = [
    'workspace',
    !building && CAN_STOP.has(build.status) ? 'canStop' : '',
    !building && CAN_START.has(build.status) ? 'canStart' : '',
    ws.outdated ? 'outdated' : '',
    building ? 'building' : '',
  ]
    .filter(Boolean)
    .join('.');
  item.tooltip = workspaceTooltip(session, ws, c, now);
  item.accessibilityInformation = { label: vscode.l10n.t('workspace {0}, {1}', ws.name, item.description) };
  return item;
}

export function agentItem(node: AgentNode, agent: WorkspaceAgent, r: RenderContext): vscode.TreeItem {
  const { session } = node;
  const c = classifyIn(session, agent, r.now, r.stuckThresholdMs);
  const hasChildren =
    !agent.parent_id && (session.fleet.childrenOf(node.workspaceId, agent.id).length > 0 || session.devcontainers.of(agent.id).length > 0);
  const item = new vscode.TreeItem(
    agent.name,
    hasChildren ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None,
  );
  item.id = `${session.url}\n${node.workspaceId}\n${node.parentName ?? ''}\n${node.name}`;
  const bound = r.isBound(node);
  item.description = agentDescription(agent, c, bound);
  const age = staleAge(session.fleet, node.workspaceId, r.now);
  if (age) item.description += ` · ${vscode.l10n.t('as of {0} ago', age)}`;
  item.iconPath = severityIcon(c);
  const ws = session.fleet.workspace(node.workspaceId);
  const offers = ws ? r.offers(session, ws, agent) : [];
  item.contextValue = [
    'agent',
    bound ? 'bound' : '',
    c.stuck ? 'stuck' : '',
    agent.parent_id ? 'sub' : '',
    c.severity,
    ...offers.map((o) => `can-${o}`),
  ]
    .filter(Boolean)
    .join('.');
  item.tooltip = ws ? agentTooltip(session, ws, agent, c, r.now, bound, r.doctor.explain(session, ws, agent)) : undefined;
  item.accessibilityInformation = { label: vscode.l10n.t('agent {0}, {1}', agent.name, item.description) };
  return item;
}

/** Agents of a workspace without a stream of its own show their age once it passes this. */
export const STALE_AFTER_MS = 60_000;

/** "5m" once what is shown of an unstreamed workspace's agents is older than STALE_AFTER_MS. */
export function staleAge(fleet: Fleet, workspaceId: string, now: number): string | undefined {
  const ms = fleet.unstreamedAge(workspaceId, now);
  if (ms === undefined || ms < STALE_AFTER_MS) return undefined;
  return ms < 3_600_000 ? `${Math.floor(ms / 60_000)}m` : formatDuration(ms);
}

/**
 * "ready · bound · connected · 3f2a9c1d": what matters first, since a sidebar of normal width
 * cuts the end of a description; the short ID last (the full one is in the tooltip). The
 * connection status is left out when the label says it.
 */
export function agentDescription(agent: WorkspaceAgent, c: Classification, bound: boolean): string {
  const parts = [labelText(c)];
  if (bound) parts.push(vscode.l10n.t('bound'));
  if (!c.label.includes(agent.status)) parts.push(agent.status);
  parts.push(shortId(agent.id));
  return parts.join(' · ');
}

/** A deployment row's description while not live. */
function connectionWord(kind: 'connecting' | 'idle' | 'offline' | 'signed-out'): string {
  switch (kind) {
    case 'connecting':
      return vscode.l10n.t('connecting');
    case 'idle':
      return vscode.l10n.t('idle');
    case 'offline':
      return vscode.l10n.t('offline');
    case 'signed-out':
      return vscode.l10n.t('signed out');
  }
}

export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

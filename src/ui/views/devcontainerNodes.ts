/**
 * Dev containers in the tree: under a top-level agent, its dev containers (each holding its
 * sub-agent), then the sub-agents that belong to no dev container, as before.
 */
import * as vscode from 'vscode';
import type { Devcontainer } from '../../api/devcontainerSchemas';
import type { WorkspaceAgent } from '../../api/schemas';
import { classifyDevcontainer } from '../../model/devcontainers';
import type { DeploymentSession } from '../deployments/deploymentSession';
import { Tooltip } from './markdown';
import { severityIcon } from './severity';
import type { DevcontainerNode, NodeCache, TreeNode } from './treeNodes';

/** The dev container a node stands for now, or undefined when it is gone. */
export function devcontainerOf(node: DevcontainerNode): { dc: Devcontainer; parent: WorkspaceAgent } | undefined {
  const parent = node.session.fleet.findAgent(node.workspaceId, node.parentName, null);
  const dc = parent && node.session.devcontainers.of(parent.id).find((d) => d.name === node.name);
  return parent && dc ? { dc, parent } : undefined;
}

/** The sub-agent of a dev container in the latest build (by ID, or by name under the parent). */
export function subAgentOfNode(node: DevcontainerNode): WorkspaceAgent | undefined {
  const hit = devcontainerOf(node);
  if (!hit) return undefined;
  return node.session.devcontainers.subAgentOf(hit.dc, node.session.fleet.childrenOf(node.workspaceId, hit.parent.id));
}

/** Children of a top-level agent: its dev containers, then sub-agents outside any dev container. */
export function childrenOfParent(nodes: NodeCache, session: DeploymentSession, workspaceId: string, parent: WorkspaceAgent): TreeNode[] {
  const children = session.fleet.childrenOf(workspaceId, parent.id);
  const dcs = session.devcontainers.of(parent.id);
  const inContainers = new Set(dcs.map((d) => session.devcontainers.subAgentOf(d, children)?.id).filter(Boolean));
  return [
    ...dcs.map((d) => nodes.devcontainer(session, workspaceId, parent.name, d.name)),
    ...children.filter((a) => !inContainers.has(a.id)).map((a) => nodes.agent(session, workspaceId, a.name, parent.name)),
  ];
}

/** The dev container node a sub-agent sits under, if it belongs to one. */
export function containerNodeOf(
  nodes: NodeCache,
  session: DeploymentSession,
  workspaceId: string,
  sub: WorkspaceAgent,
  parentName: string,
): DevcontainerNode | undefined {
  if (!sub.parent_id) return undefined;
  const dc = session.devcontainers.devcontainerOf(sub.parent_id, sub);
  return dc ? nodes.devcontainer(session, workspaceId, parentName, dc.name) : undefined;
}

export function devcontainerItem(node: DevcontainerNode): vscode.TreeItem {
  const hit = devcontainerOf(node);
  if (!hit) return new vscode.TreeItem(node.name);
  const { dc } = hit;
  const c = classifyDevcontainer(dc);
  const sub = subAgentOfNode(node);
  const item = new vscode.TreeItem(dc.name, sub ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
  // Without its sub-agent (mid-rebuild) another id: VS Code would otherwise keep it collapsed when the sub-agent is back.
  item.id = `${node.session.url}\n${node.workspaceId}\n${node.parentName}\n\ndevcontainer\n${node.name}${sub ? '' : '\nno-agent'}`;
  item.description = ['dev container', c.label].join(' · ');
  item.iconPath = severityIcon(c);
  item.contextValue = ['devcontainer', dc.dirty ? 'dirty' : '', dc.status].filter(Boolean).join('.');
  const t = new Tooltip()
    .title(`Dev container ${dc.name}`, c.icon)
    .line(c.detail ? `${c.label}: ${c.detail}` : c.label)
    .field('Workspace folder', dc.workspace_folder || undefined)
    .field('Configuration', dc.config_path || undefined)
    .field('Container', dc.container ? `${dc.container.friendly_name || dc.container.id.slice(0, 12)} (${dc.container.status})` : undefined)
    .field('Sub-agent', sub ? `${sub.name} (${sub.id})` : dc.agent ? `${dc.agent.name} (${dc.agent.id})` : undefined)
    .field('Error', dc.error ?? undefined);
  item.tooltip = t.build();
  item.accessibilityInformation = { label: `dev container ${dc.name}, ${c.label}` };
  return item;
}

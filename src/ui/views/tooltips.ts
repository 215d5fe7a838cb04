/** Markdown tooltips of the tree rows and the status bar. All server text goes through Tooltip (escaped). */
import type * as vscode from 'vscode';
import type { Workspace, WorkspaceAgent } from '../../api/schemas';
import { formatDuration } from '../../model/lifecycle';
import type { Fleet } from '../../model/fleet';
import type { Classification, ConnectionState } from '../../model/types';
import { Tooltip } from './markdown';
import type { DeploymentSession } from '../deployments/deploymentSession';

export function deploymentTooltip(session: DeploymentSession, now: number): vscode.MarkdownString {
  return new Tooltip()
    .title(session.url, 'cloud')
    .field('Signed in as', session.username)
    .line(connectionText(session.fleet.connection, now))
    .line(fleetRungText(session.fleet))
    .build();
}

export function workspaceTooltip(session: DeploymentSession, ws: Workspace, c: Classification): vscode.MarkdownString {
  const b = ws.latest_build;
  const t = new Tooltip()
    .title(`${ws.owner_name}/${ws.name}`, c.icon)
    .line(c.detail ? `${c.label}: ${c.detail}` : c.label)
    .field('Template', ws.template_display_name || ws.template_name)
    .field('Build', `#${b.build_number} ${b.transition}, job ${b.job.status}`)
    .field('Template version', b.template_version_name)
    .field('Job error', b.job.error);
  if (ws.outdated) t.line('A newer template version is available.');
  if (!ws.health.healthy) t.line('Unhealthy: an agent is failing its health checks.');
  const now = session.fleet.now();
  return t
    .field('Fed by', session.sync.rungOf(ws.id))
    .field('Agents as of', freshnessText(session.fleet, ws.id, now))
    .link('Open in the dashboard', `${session.url}/@${encodeURIComponent(ws.owner_name)}/${encodeURIComponent(ws.name)}`)
    .build();
}

export function agentTooltip(
  session: DeploymentSession,
  ws: Workspace,
  agent: WorkspaceAgent,
  c: Classification,
  now: number,
  bound: boolean,
): vscode.MarkdownString {
  const t = new Tooltip().title(`${ws.name}.${agent.name}`, c.icon).line(c.detail ? `${c.label}: ${c.detail}` : c.label);
  if (bound) t.line('This window is bound to this agent.');
  t.field('Agent ID', agent.id)
    .field('Lifecycle', agent.lifecycle_state)
    .field('Connection', agent.status)
    .field('Version', agent.version ? `${agent.version}${agent.api_version ? ` (API ${agent.api_version})` : ''}` : undefined)
    .field('OS/arch', agent.operating_system ? `${agent.operating_system}/${agent.architecture}` : undefined)
    .field('Started', timeText(agent.started_at, now))
    .field('Ready', timeText(agent.ready_at, now))
    .field('Last connected', timeText(agent.last_connected_at, now));
  if (!agent.health.healthy) t.field('Health', agent.health.reason || 'unhealthy');
  const heard = session.fleet.lastHeard(ws.id);
  if (heard !== undefined) t.field('Last update', freshnessText(session.fleet, ws.id, now));
  return t.link('Troubleshooting', agent.troubleshooting_url).build();
}

/** Which rung serves the list of workspaces, and why: "Fleet: pushed live (...)" or "Fleet: list poll (...)". */
export function fleetRungText(fleet: Fleet): string {
  const r = fleet.fleetRung;
  if (!r) return '';
  return r.rung === 'push' ? `Fleet: pushed live (${r.reason}).` : `Fleet: list poll (${r.reason}).`;
}

/**
 * How old the shown lifecycle is. Outside the live set it is as old as the last REST read: the
 * fleet push says which workspaces exist and their agents' IDs, never their lifecycle.
 */
function freshnessText(fleet: Fleet, workspaceId: string, now: number): string | undefined {
  const heard = fleet.lastHeard(workspaceId);
  if (heard === undefined) return undefined;
  const age = `${formatDuration(Math.max(0, now - heard))} ago`;
  return fleet.isLive(workspaceId) ? `${age} (live stream)` : `${age} (last read; not live)`;
}

/** "live", "offline since 2m (connect ECONNREFUSED)", ... */
export function connectionText(state: ConnectionState, now: number): string {
  switch (state.kind) {
    case 'live':
      return 'Connected: updates arrive live.';
    case 'connecting':
      return 'Connecting…';
    case 'idle':
      return 'Not connected.';
    case 'offline':
      return `Offline for ${formatDuration(Math.max(0, now - state.since))}: ${state.error}. What is shown is from before.`;
    case 'signed-out':
      return `Signed out: ${state.error}`;
  }
}

function timeText(iso: string | null | undefined, now: number): string | undefined {
  if (!iso) return undefined;
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return undefined;
  return `${new Date(t).toLocaleString()} (${formatDuration(Math.max(0, now - t))} ago)`;
}

/** Markdown tooltips of the tree rows and the status bar. All server text goes through Tooltip (escaped). */
import * as vscode from 'vscode';
import type { Workspace, WorkspaceAgent } from '../../api/schemas';
import { formatDuration } from '../../model/lifecycle';
import type { Fleet } from '../../model/fleet';
import type { Classification, ConnectionState } from '../../model/types';
import { detailText, labelText } from './classificationText';
import { Tooltip } from './markdown';
import type { DeploymentSession } from '../deployments/deploymentSession';
import type { ExplainedDiagnosis } from '../doctor/diagnosisText';

export function deploymentTooltip(session: DeploymentSession, now: number): vscode.MarkdownString {
  return new Tooltip()
    .title(session.url, 'cloud')
    .field(vscode.l10n.t('Signed in as'), session.username)
    .line(connectionText(session.fleet.connection, now))
    .line(fleetRungText(session.fleet))
    .build();
}

export function workspaceTooltip(session: DeploymentSession, ws: Workspace, c: Classification, now: number): vscode.MarkdownString {
  const b = ws.latest_build;
  const t = new Tooltip()
    .title(`${ws.owner_name}/${ws.name}`, c.icon)
    .line(classificationLine(c))
    .field(vscode.l10n.t('Template'), ws.template_display_name || ws.template_name)
    .field(vscode.l10n.t('Build'), vscode.l10n.t('#{0} {1}, job {2}', b.build_number, b.transition, b.job.status))
    .field(vscode.l10n.t('Template version'), b.template_version_name)
    .field(vscode.l10n.t('Job error'), b.job.error);
  if (ws.outdated) t.line(vscode.l10n.t('A newer template version is available.'));
  if (!ws.health.healthy) t.line(vscode.l10n.t('Unhealthy: an agent is failing its health checks.'));
  return t
    .field(vscode.l10n.t('Fed by'), session.sync.rungOf(ws.id))
    .field(vscode.l10n.t('Agents as of'), freshnessText(session.fleet, ws.id, now))
    .link(vscode.l10n.t('Open in the dashboard'), `${session.url}/@${encodeURIComponent(ws.owner_name)}/${encodeURIComponent(ws.name)}`)
    .build();
}

export function agentTooltip(
  session: DeploymentSession,
  ws: Workspace,
  agent: WorkspaceAgent,
  c: Classification,
  now: number,
  bound: boolean,
  diagnoses: readonly ExplainedDiagnosis[] = [],
): vscode.MarkdownString {
  const t = new Tooltip().title(`${ws.name}.${agent.name}`, c.icon).line(classificationLine(c));
  addDiagnoses(t, diagnoses);
  if (bound) t.line(vscode.l10n.t('This window is bound to this agent.'));
  const version = agent.api_version ? vscode.l10n.t('{0} (API {1})', agent.version, agent.api_version) : agent.version;
  t.field(vscode.l10n.t('Agent ID'), agent.id)
    .field(vscode.l10n.t('Lifecycle'), agent.lifecycle_state)
    .field(vscode.l10n.t('Connection'), agent.status)
    .field(vscode.l10n.t('Version'), agent.version ? version : undefined)
    .field(vscode.l10n.t('OS/arch'), agent.operating_system ? `${agent.operating_system}/${agent.architecture}` : undefined)
    .field(vscode.l10n.t('Started'), timeText(agent.started_at, now))
    .field(vscode.l10n.t('Ready'), timeText(agent.ready_at, now))
    .field(vscode.l10n.t('Last connected'), timeText(agent.last_connected_at, now));
  if (!agent.health.healthy) t.field(vscode.l10n.t('Health'), agent.health.reason || vscode.l10n.t('unhealthy'));
  const heard = session.fleet.lastHeard(ws.id);
  if (heard !== undefined) t.field(vscode.l10n.t('Last update'), freshnessText(session.fleet, ws.id, now));
  return t.link(vscode.l10n.t('Troubleshooting'), agent.troubleshooting_url).build();
}

/** "starting 1m 2s: Startup scripts are running; ..." */
function classificationLine(c: Classification): string {
  const detail = detailText(c);
  return detail ? vscode.l10n.t('{0}: {1}', labelText(c), detail) : labelText(c);
}

/** Which rung serves the list of workspaces, and why: "Fleet: pushed live (...)" or "Fleet: list poll (...)". */
export function fleetRungText(fleet: Fleet): string {
  const r = fleet.fleetRung;
  if (!r) return '';
  return r.rung === 'push' ? vscode.l10n.t('Fleet: pushed live ({0}).', r.reason) : vscode.l10n.t('Fleet: list poll ({0}).', r.reason);
}

/**
 * How old the shown lifecycle is. Outside the live set it is as old as the last REST read: the
 * fleet push says which workspaces exist and their agents' IDs, never their lifecycle.
 */
function freshnessText(fleet: Fleet, workspaceId: string, now: number): string | undefined {
  const heard = fleet.lastHeard(workspaceId);
  if (heard === undefined) return undefined;
  const age = formatDuration(Math.max(0, now - heard));
  return fleet.isLive(workspaceId) ? vscode.l10n.t('{0} ago (live stream)', age) : vscode.l10n.t('{0} ago (last read; not live)', age);
}

/** The doctor's findings: cause, fix, the last log lines and a link, each as escaped text. */
export function addDiagnoses(t: Tooltip, diagnoses: readonly ExplainedDiagnosis[]): Tooltip {
  for (const d of diagnoses) {
    t.rule().line(d.cause).line(d.fix);
    for (const l of d.logLines) t.line(`› ${l}`);
    if (d.link) t.link(d.link, d.link);
  }
  if (diagnoses.length) t.rule();
  return t;
}

/** "live", "offline since 2m (connect ECONNREFUSED)", ... */
export function connectionText(state: ConnectionState, now: number): string {
  switch (state.kind) {
    case 'live':
      return vscode.l10n.t('Connected: updates arrive live.');
    case 'connecting':
      return vscode.l10n.t('Connecting…');
    case 'idle':
      return vscode.l10n.t('Not connected.');
    case 'offline':
      return vscode.l10n.t(
        'Offline for {0}: {1}. What is shown is from before.',
        formatDuration(Math.max(0, now - state.since)),
        state.error,
      );
    case 'signed-out':
      return vscode.l10n.t('Signed out: {0}', state.error);
  }
}

function timeText(iso: string | null | undefined, now: number): string | undefined {
  if (!iso) return undefined;
  const t = Date.parse(iso);
  if (!Number.isFinite(t)) return undefined;
  return vscode.l10n.t('{0} ({1} ago)', new Date(t).toLocaleString(), formatDuration(Math.max(0, now - t)));
}

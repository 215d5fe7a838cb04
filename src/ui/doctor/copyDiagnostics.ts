/**
 * Copy Diagnostics: the plain-text report of model/diagnosticsReport.ts for one agent, on the
 * clipboard. It gathers names, IDs, states and times; the token and the header command's values
 * are handed to the report only as texts to cut out.
 */
import * as vscode from 'vscode';
import { diagnosticsReport, type ReportAgent } from '../../model/diagnosticsReport';
import type { WorkspaceAgent } from '../../api/schemas';
import type { ConnectionState } from '../../model/types';
import type { AgentRef } from '../binding/repairs';
import type { ReconnectDriver } from '../binding/reconnectDriver';
import type { Ctx } from '../ctx';
import type { AgentDoctor } from './agentDoctor';

function connectionWords(c: ConnectionState): string {
  return 'error' in c ? `${c.kind} (${c.error})` : c.kind;
}

function reportAgent(a: WorkspaceAgent): ReportAgent {
  return {
    id: a.id,
    name: a.name,
    parentId: a.parent_id ?? null,
    status: a.status,
    lifecycle: a.lifecycle_state,
    version: a.version,
    times: {
      created_at: a.created_at,
      first_connected_at: a.first_connected_at,
      last_connected_at: a.last_connected_at,
      disconnected_at: a.disconnected_at,
      started_at: a.started_at,
      ready_at: a.ready_at,
      updated_at: a.updated_at,
    },
  };
}

export async function buildDiagnostics(ctx: Ctx, doctor: AgentDoctor, driver: ReconnectDriver, ref: AgentRef): Promise<string> {
  const { session } = ref;
  const ws = session.fleet.workspace(ref.workspaceId);
  const agent = session.fleet.findAgent(ref.workspaceId, ref.name, ref.parentName);
  const record = doctor.record(session, ref.workspaceId);
  const bound = driver.history.length > 0 && driver.history.some((h) => agent && (h.newId === agent.id || h.oldId === agent.id));
  return diagnosticsReport({
    generatedAt: ctx.clock.now(),
    extension: { id: ctx.extension.extension.id, version: String((ctx.extension.extension.packageJSON as { version?: unknown }).version) },
    editor: { appName: vscode.env.appName, version: vscode.version, remoteName: vscode.env.remoteName },
    deployment: {
      url: session.url,
      serverVersion: session.serverVersion,
      connection: connectionWords(session.fleet.connection),
      streams: session.sync.describeSupport(),
      repairRoutes: ctx.operations.describe(session.url),
    },
    workspace: ws && {
      id: ws.id,
      name: ws.name,
      owner: ws.owner_name,
      template: ws.template_display_name || ws.template_name,
      status: ws.latest_build.status,
      rung: session.sync.rungOf(ws.id),
      build: {
        id: ws.latest_build.id,
        number: ws.latest_build.build_number,
        transition: ws.latest_build.transition,
        jobStatus: ws.latest_build.job.status,
        error: ws.latest_build.job.error,
        createdAt: ws.latest_build.created_at,
      },
      stuckBuilds: record?.builds ?? [],
    },
    focusAgentId: agent?.id,
    agents: session.fleet.agentsOf(ref.workspaceId).map(reportAgent),
    idHistory: bound ? [...driver.history].reverse() : [],
    decisions: driver.decisions,
    diagnoses: ws && agent ? doctor.explain(session, ws, agent) : [],
    secrets: await session.secrets(),
  });
}

export async function copyDiagnostics(ctx: Ctx, doctor: AgentDoctor, driver: ReconnectDriver, ref: AgentRef): Promise<void> {
  const text = await buildDiagnostics(ctx, doctor, driver, ref);
  await vscode.env.clipboard.writeText(text);
  ctx.log.info(`diagnostics of ${ref.name} copied (${text.length} characters)`);
  void vscode.window.showInformationMessage(vscode.l10n.t('Diagnostics copied to the clipboard (no session token).'));
}

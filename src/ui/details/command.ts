/**
 * `coderStatus.showDetails`: the details panel of a tree agent, or of the bound agent; and the
 * serializer that brings open panels back after a window reload (a reconnect reloads it).
 */
import * as vscode from 'vscode';
import { parsePanelState } from '../../protocol/detailsPanel';
import { DETAILS_VIEW_TYPE, DetailsPanel, type DetailsSource } from './panel';
import { awaitingData, createDetailsSource, followLogsInto, resolveDetails, type DetailsTarget } from './source';
import { classifyIn } from '../views/classify';
import { keyOfNamed, sameAgent } from '../../model/agentKey';
import type { Ctx } from '../ctx';
import type { AgentRef } from '../binding/repairs';
import type { WindowBinding } from '../binding/windowBinding';
import type { ReconnectDriver } from '../binding/reconnectDriver';
import type { AgentNode } from '../views/treeNodes';
import type { OpenDeployments } from '../deployments/openDeployments';
import type { AgentDoctor } from '../doctor/agentDoctor';
import { offersFor } from '../doctor/offers';
import type { RepairAction } from '../../model/repairOffers';

/** How long a restored panel waits for its deployment's first answer before saying the agent is gone. */
const RESTORE_WAIT_MS = 30_000;

/** Opens details panels over the open deployments, the window binding and its persisted history. */
export class AgentDetails {
  constructor(
    private readonly ctx: Ctx,
    private readonly sessions: OpenDeployments,
    private readonly bound: WindowBinding,
    private readonly driver: ReconnectDriver,
    private readonly doctor: AgentDoctor,
  ) {
    // Registered during activation: VS Code restores the panels once the extension is active.
    ctx.pushCleanup(
      vscode.window.registerWebviewPanelSerializer(DETAILS_VIEW_TYPE, {
        deserializeWebviewPanel: (panel, state) => Promise.resolve(this.restore(panel, state)),
      }),
    );
  }

  show(ref: AgentRef): void {
    const target: DetailsTarget = {
      deploymentUrl: ref.session.url,
      workspaceId: ref.workspaceId,
      agentName: ref.name,
      parentName: ref.parentName,
    };
    this.ctx.log.info(`details panel for ${ref.name} in workspace ${ref.workspaceId}`);
    DetailsPanel.show(this.panelContext(), this.sourceOf(target));
  }

  private restore(panel: vscode.WebviewPanel, state: unknown): void {
    const checked = parsePanelState(state);
    if (!checked.ok) {
      // A panel saved before its page said which agent it shows, or a state that is not ours.
      this.ctx.log.warn(`details panel: not restored, its saved state is unreadable (${checked.reason})`);
      panel.dispose();
      return;
    }
    const target = checked.message;
    this.ctx.log.info(`details panel for ${target.agentName} in workspace ${target.workspaceId} restored`);
    DetailsPanel.restore(this.panelContext(), panel, this.sourceOf(target));
  }

  private panelContext() {
    return { extensionUri: this.ctx.extension.extensionUri, log: this.ctx.log, clock: this.ctx.clock };
  }

  private sourceOf(target: DetailsTarget): DetailsSource {
    const ctx = this.ctx;
    const deps = { sessionOf: (url: string) => this.sessions.get(url) };
    const waitUntil = ctx.clock.now() + RESTORE_WAIT_MS;
    return createDetailsSource({
      target,
      resolve: () =>
        resolveDetails(target, {
          ...deps,
          classify: (s, agent, now) => classifyIn(s, agent, now, ctx.config.stuckThresholdMs),
          isBound: (t) => this.isBound(t),
          devcontainerOf: (s, agent) => (agent.parent_id ? s.devcontainers.devcontainerOf(agent.parent_id, agent) : undefined),
          idHistory: () => this.driver.history,
          now: () => ctx.clock.now(),
          doctor: (s, workspace, agent) => ({
            diagnoses: this.doctor.explain(s, workspace, agent),
            offers: offerFlags(offersFor(ctx, this.doctor, s, workspace, agent)),
          }),
        }),
      loading: () => ctx.clock.now() < waitUntil && awaitingData(target, deps),
      onDidChange: (listener) => {
        const model = this.sessions.onDidChange((e) => {
          if (e.session.url === target.deploymentUrl) listener();
        });
        const opened = this.sessions.onDidChangeSessions(() => listener());
        // A log tail the doctor loaded, or its record of stuck builds, changes the diagnosis.
        const doctor = this.doctor.onDidChange(() => listener());
        const operations = ctx.onDidChangeOperations(() => listener());
        // The end of the wait is a change too: a deployment that never answered means "gone".
        const waited = ctx.clock.setTimeout(listener, Math.max(0, waitUntil - ctx.clock.now()));
        return {
          dispose: () => {
            model.dispose();
            opened.dispose();
            doctor.dispose();
            operations.dispose();
            waited.cancel();
          },
        };
      },
      followLogs: (agentId, sink) => {
        const s = this.sessions.get(target.deploymentUrl);
        if (s) return followLogsInto(s.client, agentId, sink, { clock: ctx.clock, log: ctx.log });
        sink.status('unavailable');
        return { dispose() {} };
      },
    });
  }

  private isBound(t: DetailsTarget): boolean {
    const b = this.bound.agent;
    return !!b && b.session.url === t.deploymentUrl && sameAgent(b, keyOfNamed(t));
  }
}

function offerFlags(offers: readonly RepairAction[]): { replay: boolean; reinitialize: boolean; restart: boolean } {
  return { replay: offers.includes('replay'), reinitialize: offers.includes('reinitialize'), restart: offers.includes('restart') };
}

export function refOfNode(node: AgentNode): AgentRef {
  return { session: node.session, workspaceId: node.workspaceId, name: node.name, parentName: node.parentName };
}

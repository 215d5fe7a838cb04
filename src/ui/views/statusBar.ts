/**
 * The status-bar entry: the bound agent as `<workspace>.<agent>: <lifecycle>`, or a summary of
 * all agents when nothing is bound; an unreachable deployment is said, with the age of what is
 * shown. Clicking focuses the tree.
 */
import * as vscode from 'vscode';
import type { TimerHandle } from '../../common/clock';
import type { Disposable } from '../../common/disposable';
import { formatDuration } from '../../model/lifecycle';
import type { Classification, Severity } from '../../model/types';
import type { WindowBinding } from '../binding/windowBinding';
import { classifyIn, movesWithClock } from './classify';
import { detailText, labelText } from './classificationText';
import type { Ctx } from '../ctx';
import { Tooltip } from './markdown';
import { statusBarBackground } from './severity';
import type { OpenDeployments } from '../deployments/openDeployments';
import { addDiagnoses, connectionText, fleetRungText } from './tooltips';
import type { AgentDoctor } from '../doctor/agentDoctor';
import { VIEW_ID } from './tree';

/** "3 ready", "1 starting", ...: one count of the summary. */
const SUMMARY_COUNT: Record<Severity, (n: number) => string> = {
  ok: (n) => vscode.l10n.t('{0} ready', n),
  progress: (n) => vscode.l10n.t('{0} starting', n),
  warning: (n) => vscode.l10n.t('{0} need attention', n),
  error: (n) => vscode.l10n.t('{0} failing', n),
  off: (n) => vscode.l10n.t('{0} off', n),
};
const SUMMARY_ORDER: Severity[] = ['ok', 'progress', 'warning', 'error', 'off'];

interface Shown {
  text: string;
  severity: Severity;
  tooltip: vscode.MarkdownString;
  /** The text moves with the clock (elapsed time, offline age, stuck threshold ahead). */
  timed: boolean;
}

export class StatusBar implements Disposable {
  private readonly item: vscode.StatusBarItem;
  private tick: TimerHandle | undefined;
  private lastText = '';

  constructor(
    private readonly ctx: Ctx,
    private readonly sessions: OpenDeployments,
    private readonly bound: WindowBinding,
    private readonly doctor: AgentDoctor,
  ) {
    this.item = vscode.window.createStatusBarItem('coderStatus.status', vscode.StatusBarAlignment.Left, 50);
    this.item.name = vscode.l10n.t('Coder Workspace Status');
    this.item.command = { command: `${VIEW_ID}.focus`, title: vscode.l10n.t('Show Coder Workspace Agents') };
    ctx.pushCleanup(sessions.onDidChangeSessions(() => this.update()));
    ctx.pushCleanup(sessions.onDidChange(() => this.update()));
    ctx.pushCleanup(bound.onDidChange(() => this.update()));
    ctx.pushCleanup(doctor.onDidChange(() => this.update()));
    this.update();
  }

  update(): void {
    const shown = this.compute();
    if (!shown) {
      this.item.hide();
      return;
    }
    this.item.text = shown.text;
    this.item.tooltip = shown.tooltip;
    this.item.backgroundColor = statusBarBackground(shown.severity);
    this.item.accessibilityInformation = { label: shown.text.replace(/\$\([\w~-]+\)\s*/g, '') };
    this.item.show();
    if (shown.text !== this.lastText) {
      // Elapsed-time ticks would flood the log; lifecycle changes are what matters.
      if (shown.text.replace(/\d+[hms]/g, '') !== this.lastText.replace(/\d+[hms]/g, '')) this.ctx.log.info(`status bar: ${shown.text}`);
      this.lastText = shown.text;
    }
    this.schedule(shown.timed);
  }

  private compute(): Shown | undefined {
    const sessions = this.sessions.list();
    if (sessions.length === 0) return undefined;
    const now = this.ctx.clock.now();
    const offline = sessions.find((s) => s.fleet.connection.kind === 'offline');
    const offlineSince = offline?.fleet.connection.kind === 'offline' ? offline.fleet.connection.since : undefined;
    const age =
      offlineSince !== undefined
        ? vscode.l10n.t('offline, state from {0} ago', formatDuration(Math.max(0, now - offlineSince)))
        : undefined;
    const signedOut = sessions.every((s) => s.fleet.connection.kind === 'signed-out');
    if (signedOut) {
      return {
        text: `$(account) ${vscode.l10n.t('Coder: signed out')}`,
        severity: 'warning',
        timed: false,
        tooltip: new Tooltip()
          .title(vscode.l10n.t('Coder: signed out'))
          .line(vscode.l10n.t('Sign in again to see your workspaces.'))
          .build(),
      };
    }

    const b = this.bound.bound;
    if (b) {
      const ws = b.session.fleet.workspace(b.workspaceId);
      const agent = b.agentName ? b.session.fleet.findAgent(b.workspaceId, b.agentName, b.parentName) : undefined;
      const name = `${ws?.name ?? '?'}${b.agentName ? `.${b.agentName}` : ''}`;
      const t = new Tooltip();
      let c: Classification;
      if (agent) {
        c = classifyIn(b.session, agent, now, this.ctx.config.stuckThresholdMs);
        t.title(`${name}: ${labelText(c)}`, c.icon)
          .line(detailText(c) ?? '')
          .field(vscode.l10n.t('Agent ID'), agent.id)
          .field(vscode.l10n.t('Connection'), agent.status);
        if (ws) addDiagnoses(t, this.doctor.explain(b.session, ws, agent));
      } else {
        const build = ws?.latest_build;
        const reason = !build
          ? vscode.l10n.t('workspace not found')
          : b.agentName
            ? vscode.l10n.t('no agent named {0} in build #{1} ({2})', b.agentName, build.build_number, build.status)
            : vscode.l10n.t('no agent to pick in build #{0} ({1})', build.build_number, build.status);
        c = { severity: 'off', label: build?.status ?? vscode.l10n.t('unknown'), icon: 'circle-slash', detail: reason };
        t.title(`${name}: ${labelText(c)}`, c.icon).line(reason);
      }
      t.line(connectionText(b.session.fleet.connection, now))
        .line(fleetRungText(b.session.fleet))
        .line(vscode.l10n.t('Click to show all workspace agents.'));
      const offlineHere = b.session.fleet.connection.kind === 'offline';
      const icon = offlineHere ? 'cloud-offline' : c.icon;
      const text = `$(${icon}) ${name}: ${labelText(c)}${offlineHere && age ? ` (${age})` : ''}`;
      const timed = offlineHere || (agent !== undefined && movesWithClock(agent));
      return { text, severity: offlineHere ? 'warning' : c.severity, tooltip: t.build(), timed };
    }

    if (offline && age) {
      const t = new Tooltip().title(vscode.l10n.t('Coder: offline'), 'cloud-offline');
      for (const s of sessions) t.field(s.url, connectionText(s.fleet.connection, now));
      return { text: `$(cloud-offline) ${vscode.l10n.t('Coder: {0}', age)}`, severity: 'warning', tooltip: t.build(), timed: true };
    }
    return this.summary(now);
  }

  /** "3 ready, 1 starting" over every agent of every open deployment. */
  private summary(now: number): Shown {
    const counts = new Map<Severity, number>();
    let timed = false;
    let total = 0;
    for (const s of this.sessions.list()) {
      for (const ws of s.fleet.workspaces()) {
        for (const a of s.fleet.agentsOf(ws.id)) {
          const c = classifyIn(s, a, now, this.ctx.config.stuckThresholdMs);
          counts.set(c.severity, (counts.get(c.severity) ?? 0) + 1);
          total++;
          timed ||= movesWithClock(a);
        }
      }
    }
    const parts = SUMMARY_ORDER.filter((k) => counts.get(k)).map((k) => SUMMARY_COUNT[k](counts.get(k) ?? 0));
    const worst = [...SUMMARY_ORDER].reverse().find((k) => k !== 'off' && counts.get(k)) ?? 'ok';
    const connecting = this.sessions.list().every((s) => s.fleet.connection.kind === 'connecting');
    const text =
      total === 0
        ? connecting
          ? `$(sync~spin) ${vscode.l10n.t('Coder: connecting')}`
          : `$(remote) ${vscode.l10n.t('Coder: no agents')}`
        : `$(remote) ${vscode.l10n.t('Coder: {0}', parts.join(', '))}`;
    const t = new Tooltip().title(vscode.l10n.t('Coder workspace agents'), 'remote');
    for (const s of this.sessions.list()) t.field(s.url, `${connectionText(s.fleet.connection, now)} ${fleetRungText(s.fleet)}`.trim());
    t.line(vscode.l10n.t('Not bound to an agent: set coderStatus.binding to owner/workspace.agent to follow one here.'));
    return { text, severity: worst === 'error' || worst === 'warning' ? worst : 'ok', tooltip: t.build(), timed };
  }

  private schedule(timed: boolean): void {
    if (!timed || this.tick) return;
    this.tick = this.ctx.clock.setTimeout(() => {
      this.tick = undefined;
      this.update();
    }, 1000);
  }

  dispose(): void {
    this.tick?.cancel();
    this.item.dispose();
  }
}

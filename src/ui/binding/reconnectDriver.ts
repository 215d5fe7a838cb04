/**
 * Drives the reconnect decision (model/reconnect.ts, run by sync/reconnectRunner.ts) with what
 * the bound agent does, and carries out its decisions: reconnects the window (remoteSession.ts),
 * runs repairs (repairs.ts), asks the user where the decision says so. Keeps the binding's ID
 * history and the loop-cap history across reloads.
 */
import * as vscode from 'vscode';
import { BindingTracker, type HistoryEntry } from '../../model/binding';
import { BindingFollower } from '../../sync/bindingFollower';
import { shortId } from '../../model/lifecycle';
import type { Decision } from '../../model/reconnect';
import { ReconnectRunner } from '../../sync/reconnectRunner';
import type { Change } from '../../model/types';
import type { TimerHandle } from '../../common/clock';
import type { WindowBinding } from './windowBinding';
import type { Ctx } from '../ctx';
import { reconnectWindow } from './remoteSession';
import { labelOf, offerRestart, requestRepair, type AgentRef } from './repairs';
import type { OpenDeployments } from '../deployments/openDeployments';
import { RECONNECT_NOTICE_LIFETIME_MS } from '../persistentState';
import { UserRefusal } from '../commands/commandTable';
import type { AgentDoctor } from '../doctor/agentDoctor';
import { restartWillNotHelp, stuckNotice } from '../doctor/stuckNotice';

export class ReconnectDriver implements vscode.Disposable {
  private readonly machine: ReconnectRunner;
  private readonly tracker: BindingTracker;
  private ref: AgentRef | undefined;
  private validation: TimerHandle | undefined;
  private follower: { session: AgentRef['session']; follower: BindingFollower } | undefined;
  private readonly decisionLog: { at: number; kind: string; reason: string }[] = [];

  constructor(
    private readonly ctx: Ctx,
    sessions: OpenDeployments,
    private readonly bound: WindowBinding,
    private readonly doctor: AgentDoctor,
  ) {
    this.machine = new ReconnectRunner({
      clock: ctx.clock,
      settings: ctx.config.reconnect,
      loopHistory: ctx.state.loopHistory,
      support: (op) => (this.ref ? ctx.operations.get(this.ref.session.url, op) : 'unknown'),
      skewMs: () => this.ref?.session.fleet.serverSkewMs() ?? 0,
    });
    this.tracker = BindingTracker.fromJSON(ctx.state.bindingHistory, ctx.clock);
    ctx.pushCleanup(this.machine.onDecision((d) => void this.act(d)));
    ctx.pushCleanup(ctx.config.onDidChange(() => this.machine.updateSettings(ctx.config.reconnect)));
    ctx.pushCleanup(bound.onDidChange(() => this.rebind()));
    ctx.pushCleanup(sessions.onDidChange((e) => this.onChanges(e.session, e.changes)));
    this.rebind();
    void this.showPendingNotice();
  }

  /** The last reconnect decisions, oldest first (for Copy Diagnostics). */
  get decisions(): readonly { at: number; kind: string; reason: string }[] {
    return this.decisionLog;
  }

  /** Agent-ID changes of the bound agent, newest first (for the details panel). */
  get history(): readonly HistoryEntry[] {
    return this.tracker.history;
  }

  private rebind(): void {
    this.ref = this.bound.agent;
    if (this.ref && this.follower?.session !== this.ref.session) {
      this.follower = {
        session: this.ref.session,
        follower: new BindingFollower(this.ref.session.fleet, this.tracker, this.machine, () => this.persistHistory()),
      };
    }
    this.follower?.follower.follow(this.ref);
  }

  private onChanges(session: AgentRef['session'], changes: Change[]): void {
    if (!this.ref && this.bound.agent) this.rebind();
    if (!this.ref || this.follower?.session !== session) return;
    const status = this.follower.follower.onChanges(changes);
    if (status) this.validate(status);
  }

  /**
   * A bound agent that is not connected is never declared dead: after the validation delay the
   * workspace is read again, so a replacement in the latest build is found.
   */
  private validate(status: string): void {
    if (status === 'connected' || status === 'connecting') {
      this.validation?.cancel();
      this.validation = undefined;
      return;
    }
    if (this.validation) return;
    this.validation = this.ctx.clock.setTimeout(() => {
      this.validation = undefined;
      const ref = this.ref;
      if (!ref) return;
      this.ctx.log.info(`${labelOf(ref)} is ${status}: looking it up again in the latest build`);
      void ref.session.sync.refresh();
    }, this.ctx.config.validationDelayMs);
  }

  private async act(d: Decision): Promise<void> {
    const ref = this.ref;
    const label = ref ? labelOf(ref) : vscode.l10n.t('the bound agent');
    const line = `reconnect: ${d.kind}: ${d.reason}`;
    if (d.kind === 'give-up' || d.kind === 'stuck') this.ctx.log.warn(line);
    else this.ctx.log.info(line);
    this.decisionLog.push({ at: this.ctx.clock.now(), kind: d.kind, reason: d.reason });
    if (this.decisionLog.length > 20) this.decisionLog.shift();
    switch (d.kind) {
      case 'reconnect': {
        // Written before acting: a reload ends this extension host at once. The notice is this
        // window's: another window starting meanwhile must not show it.
        const text = vscode.l10n.t('Reconnected to {0}: agent changed after build {1}', label, d.buildNumber);
        await this.ctx.state.setLoopHistory(this.machine.loopHistory());
        await this.ctx.state.setReconnectNotice({ text, at: this.ctx.clock.now() });
        const outcome = await reconnectWindow(this.ctx, label);
        if (outcome === 'reloading') return;
        await this.ctx.state.setReconnectNotice(undefined);
        if (outcome === 'deferred') return this.machine.dispatch({ type: 'deferred', agentId: d.agentId });
        this.machine.dispatch({ type: 'reconnected' });
        return this.notice(text);
      }
      case 'ask-reconnect':
      case 'ask-loop-cap': {
        const msg =
          d.kind === 'ask-loop-cap'
            ? vscode.l10n.t(
                '{0} changed its agent again. It was reconnected automatically several times in the last 10 minutes: reconnect now?',
                label,
              )
            : vscode.l10n.t('{0} has a new agent ({1}). Reconnect now?', label, shortId(d.agentId));
        const yes = vscode.l10n.t('Reconnect');
        const choice = await vscode.window.showInformationMessage(msg, yes, vscode.l10n.t('Later'));
        return this.machine.dispatch({ type: 'user-choice', choice: choice === yes ? 'reconnect' : 'later', about: d.agentId });
      }
      case 'offer-repair': {
        if (!ref) return;
        return stuckNotice(this.ctx, this.doctor, ref, (c) => this.machine.dispatch({ type: 'user-choice', choice: c, about: d.agentId }));
      }
      case 'replay':
      case 'reinitialize': {
        if (!ref) return;
        const r = await requestRepair(this.ctx, ref, d.kind);
        return this.machine.dispatch({ type: 'repair-result', op: d.kind, ...r });
      }
      case 'offer-restart': {
        if (!ref) return;
        // The doctor knows a restart will not cure it: say what does instead of offering it.
        if (restartWillNotHelp(this.doctor, ref))
          return stuckNotice(this.ctx, this.doctor, ref, (c) =>
            this.machine.dispatch({ type: 'user-choice', choice: c, about: d.agentId }),
          );
        const restarted = await offerRestart(this.ctx, ref, d.reason);
        return this.machine.dispatch({ type: 'user-choice', choice: restarted ? 'restart' : 'later', about: d.agentId });
      }
      case 'ready':
        void vscode.window.showInformationMessage(vscode.l10n.t('{0} is ready again.', label));
        return;
      case 'give-up':
        void vscode.window.showWarningMessage(vscode.l10n.t('{0}: {1}', label, d.reason), vscode.l10n.t('Show Logs')).then((a) => {
          if (a) this.ctx.log.show(true);
        });
        return;
      default:
        return;
    }
  }

  /** Manual reconnect (command): reconnect the window to the agent as it is now. */
  async reconnectNow(): Promise<void> {
    const ref = this.ref;
    if (!ref) throw new UserRefusal(vscode.l10n.t('This window is not bound to an agent.'));
    const outcome = await reconnectWindow(this.ctx, labelOf(ref));
    if (outcome === 'rebound') this.notice(vscode.l10n.t('Reconnected to {0}.', labelOf(ref)));
  }

  private notice(text: string): void {
    void vscode.window.showInformationMessage(text, vscode.l10n.t('Show Details')).then((a) => {
      if (a) void vscode.commands.executeCommand('coderStatus.showDetails');
    });
  }

  private async showPendingNotice(): Promise<void> {
    const n = this.ctx.state.reconnectNotice;
    if (!n) return;
    await this.ctx.state.setReconnectNotice(undefined);
    if (this.ctx.clock.now() - n.at < RECONNECT_NOTICE_LIFETIME_MS) {
      this.ctx.log.info(n.text);
      this.notice(n.text);
    }
  }

  private persistHistory(): void {
    void this.ctx.state.setBindingHistory(this.tracker.toJSON());
  }

  dispose(): void {
    this.validation?.cancel();
    this.machine.dispose();
  }
}

/**
 * The context keys the manifest reads (`coderStatus.state` picks the welcome content,
 * `coderStatus.bound` and `coderStatus.signedIn` gate commands), and a progress bar on the view
 * while the first answer of a deployment is awaited.
 */
import * as vscode from 'vscode';
import type { Disposable } from '../../common/disposable';
import type { WindowBinding } from '../binding/windowBinding';
import { ContextKeys, type ViewState } from './contextKeys';
import type { Ctx } from '../ctx';
import type { OpenDeployments } from '../deployments/openDeployments';
import { VIEW_ID } from './tree';

export class ViewStateKeys implements Disposable {
  private readonly keys = new ContextKeys();
  private state: ViewState | undefined;
  private endLoading: (() => void) | undefined;

  constructor(
    private readonly ctx: Ctx,
    private readonly sessions: OpenDeployments,
    private readonly bound: WindowBinding,
  ) {
    ctx.pushCleanup(sessions.onDidChangeSessions(() => this.update()));
    ctx.pushCleanup(
      sessions.onDidChange(({ changes }) => {
        if (changes.some((c) => c.kind !== 'agent-changed')) this.update();
      }),
    );
    ctx.pushCleanup(bound.onDidChange(() => this.update()));
    this.update();
  }

  update(): void {
    const all = this.sessions.list();
    const workspaces = all.reduce((n, s) => n + s.fleet.workspaces().length, 0);
    const kinds = all.map((s) => s.fleet.connection.kind);
    let state: ViewState;
    if (all.length === 0 || kinds.every((k) => k === 'signed-out')) state = 'signedOut';
    else if (workspaces > 0) state = 'ready';
    else if (kinds.every((k) => k === 'offline' || k === 'signed-out')) state = 'offline';
    else if (kinds.some((k) => k === 'live')) state = 'empty';
    else state = 'loading';
    this.keys.set('coderStatus.state', state);
    this.keys.set('coderStatus.bound', this.bound.bound !== undefined);
    if (state !== this.state) {
      this.ctx.log.info(`view state: ${state}`);
      this.state = state;
    }
    if (state === 'loading') this.startLoading();
    else this.stopLoading();
  }

  private startLoading(): void {
    if (this.endLoading) return;
    void vscode.window.withProgress({ location: { viewId: VIEW_ID } }, () => new Promise<void>((resolve) => (this.endLoading = resolve)));
  }

  private stopLoading(): void {
    this.endLoading?.();
    this.endLoading = undefined;
  }

  dispose(): void {
    this.stopLoading();
  }
}

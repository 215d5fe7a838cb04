/**
 * What every part of the UI shares: the log channel, the clock, the settings, and one owner of
 * cleanups. The extension's subscriptions hold the Ctx, so deactivation disposes everything
 * pushed here, in reverse order.
 */
import type * as vscode from 'vscode';
import type { Clock } from '../common/clock';
import { DisposableStore, type Disposable } from '../common/disposable';
import { OperationSupport } from '../model/operations';
import { Config } from './config';

export class Ctx implements Disposable {
  readonly config = new Config();
  /** What each deployment was found to support, shared by the repair commands and the reconnect driver. */
  readonly operations = new OperationSupport();
  private readonly cleanups = new DisposableStore();

  constructor(
    readonly extension: vscode.ExtensionContext,
    readonly log: vscode.LogOutputChannel,
    readonly clock: Clock,
  ) {
    extension.subscriptions.push(this);
  }

  pushCleanup<T extends Disposable>(d: T): T {
    return this.cleanups.add(d);
  }

  dispose(): void {
    this.cleanups.dispose();
  }
}

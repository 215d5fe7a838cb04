/**
 * What every part of the UI shares: the log channel, the clock, the settings, the stored state,
 * and one owner of cleanups. The extension's subscriptions hold the Ctx, so deactivation
 * disposes everything pushed here, in reverse order.
 */
import * as vscode from 'vscode';
import type { Clock } from '../common/clock';
import { DisposableStore, type Disposable } from '../common/disposable';
import { OperationSupport } from '../model/operations';
import { Config } from './config';
import { PersistentState, windowKey } from './persistentState';

export class Ctx implements Disposable {
  readonly config = new Config();
  /** What each deployment was found to support, shared by the repair commands and the reconnect driver. */
  readonly operations = new OperationSupport();
  /** Every stored key, by scope (global, workspace, window). */
  readonly state: PersistentState;
  private readonly cleanups = new DisposableStore();

  constructor(
    readonly extension: vscode.ExtensionContext,
    readonly log: vscode.LogOutputChannel,
    readonly clock: Clock,
  ) {
    const folder = vscode.workspace.workspaceFile ?? vscode.workspace.workspaceFolders?.[0]?.uri;
    const authority = folder?.scheme === 'vscode-remote' ? folder.authority : vscode.env.remoteName;
    this.state = new PersistentState(extension.globalState, extension.workspaceState, windowKey(authority, folder?.toString()));
    extension.subscriptions.push(this);
  }

  pushCleanup<T extends Disposable>(d: T): T {
    return this.cleanups.add(d);
  }

  dispose(): void {
    this.cleanups.dispose();
  }
}

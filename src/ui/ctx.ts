/**
 * What every part of the UI shares: the log channel, the clock, the settings, the stored state,
 * and one owner of cleanups. The extension's subscriptions hold the Ctx, so deactivation
 * disposes everything pushed here, in reverse order.
 */
import * as vscode from 'vscode';
import type { Clock } from '../common/clock';
import { DisposableStore, Emitter, type Disposable } from '../common/disposable';
import type { OperationSupport } from '../model/operations';
import { Config } from './config';
import { PersistentState, windowKey } from './persistentState';

export class Ctx implements Disposable {
  readonly config = new Config();
  /**
   * What each deployment was found to support, shared by the repair commands, the offers and the
   * reconnect driver; kept across reloads (`rememberOperations`).
   */
  readonly operations: OperationSupport;
  private readonly operationsChanged = new Emitter<void>();
  /** `operations` learned something: the repair offers shown (tree menus, details panel) may change. */
  readonly onDidChangeOperations = this.operationsChanged.event;
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
    this.operations = this.state.operations;
    extension.subscriptions.push(this);
  }

  /** Stores `operations` after it learned something (a reload, or a restart, must not probe again). */
  rememberOperations(): void {
    void this.state.setOperations(this.operations);
    this.operationsChanged.fire();
  }

  pushCleanup<T extends Disposable>(d: T): T {
    return this.cleanups.add(d);
  }

  dispose(): void {
    this.cleanups.dispose();
    this.operationsChanged.dispose();
  }
}

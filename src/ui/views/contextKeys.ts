/** `setContext` for the keys the manifest's `when` clauses read; a key is only sent when it changes. */
import * as vscode from 'vscode';

export type ViewState = 'signedOut' | 'empty' | 'offline' | 'loading' | 'ready';

export class ContextKeys {
  private readonly values = new Map<string, unknown>();

  set(key: 'coderStatus.state', value: ViewState): void;
  set(key: 'coderStatus.signedIn' | 'coderStatus.bound', value: boolean): void;
  set(key: string, value: unknown): void {
    if (this.values.has(key) && this.values.get(key) === value) return;
    this.values.set(key, value);
    void vscode.commands.executeCommand('setContext', key, value);
  }
}

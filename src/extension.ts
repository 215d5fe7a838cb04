import * as vscode from 'vscode';
import { registerSignIn } from './ui/signIn';

export function activate(context: vscode.ExtensionContext): void {
  const log = vscode.window.createOutputChannel('Coder Workspace Status', { log: true });
  context.subscriptions.push(log);
  log.info(`activating ${context.extension.id} ${context.extension.packageJSON.version as string}`);
  void vscode.commands.executeCommand('setContext', 'coderStatus.state', 'signedOut');
  context.subscriptions.push(
    vscode.commands.registerCommand('coderStatus.showLogs', () => log.show(true)),
    vscode.commands.registerCommand('coderStatus.refresh', () => log.info('refresh requested')),
  );
  // Sign-in/out commands; the returned store lists the deployments to open a session for.
  registerSignIn(context, { log });
}

export function deactivate(): void {}

/**
 * Reconnecting this window's remote session to the new agent. A Coder Remote-SSH window is
 * reloaded (the SSH proxy resolves the agent by name again and lands on the new one); any other
 * window is rebound: the extension already follows the agent by name, so nothing reloads.
 * Never loses an edit: with unsaved editors and hot exit off, it asks instead of reloading.
 */
import * as vscode from 'vscode';
import { parseRemoteAuthority } from '../../model/binding';
import { reloadSafety } from '../../model/reconnect';
import type { Ctx } from '../ctx';

export type ReconnectMethod = 'reload' | 'rebind';
export type ReconnectOutcome = 'reloading' | 'rebound' | 'deferred';

/** The method for this window: `coderStatus.reconnect.action`, or by the kind of window. */
export function reconnectMethod(setting: string, remoteAuthority: string | undefined): ReconnectMethod {
  if (setting === 'reload' || setting === 'rebind') return setting;
  return remoteAuthority && parseRemoteAuthority(remoteAuthority).kind === 'coder' ? 'reload' : 'rebind';
}

/** The window's remote authority (VS Code exposes only the remote name publicly). */
export function remoteAuthority(): string | undefined {
  const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
  if (folder?.scheme === 'vscode-remote') return folder.authority;
  return vscode.env.remoteName ? `${vscode.env.remoteName}+` : undefined;
}

export async function reconnectWindow(ctx: Ctx, label: string): Promise<ReconnectOutcome> {
  const method = reconnectMethod(ctx.config.reconnectAction, remoteAuthority());
  if (method === 'rebind') {
    ctx.log.info(`reconnect ${label}: rebinding (no reload); streams and commands follow the new agent`);
    return 'rebound';
  }
  const dirty = vscode.workspace.textDocuments.filter((d) => d.isDirty);
  const hotExit = vscode.workspace.getConfiguration('files').get<string>('hotExit', 'onExit');
  if (reloadSafety({ dirtyCount: dirty.length, hotExit }) === 'ask') {
    ctx.log.info(`reconnect ${label}: ${dirty.length} unsaved editor(s) and files.hotExit is off: asking before reloading`);
    const choice = await vscode.window.showWarningMessage(
      vscode.l10n.t(
        '{0} has a new agent. Reloading the window to reconnect would lose {1} unsaved editor(s), since hot exit is off.',
        label,
        dirty.length,
      ),
      vscode.l10n.t('Save All and Reconnect'),
      vscode.l10n.t('Reconnect Anyway'),
      vscode.l10n.t('Later'),
    );
    if (choice === vscode.l10n.t('Save All and Reconnect')) {
      const saved = await vscode.workspace.saveAll(true);
      if (!saved || vscode.workspace.textDocuments.some((d) => d.isDirty)) {
        ctx.log.warn(`reconnect ${label}: not every editor was saved; not reloading`);
        return 'deferred';
      }
    } else if (choice !== vscode.l10n.t('Reconnect Anyway')) {
      ctx.log.info(`reconnect ${label}: deferred by the user`);
      return 'deferred';
    }
  }
  ctx.log.info(`reconnect ${label}: reloading the window`);
  await vscode.commands.executeCommand('workbench.action.reloadWindow');
  return 'reloading';
}

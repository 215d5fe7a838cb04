/**
 * The one way a command is registered. Every command of the extension is an entry of one table
 * (id -> handler), and every handler runs behind the same wrapper:
 *
 * - a `UserRefusal` (nothing to act on, not bound, signed out) is what the user asked for not
 *   making sense right now: an information message and an info log line, no failure;
 * - anything else thrown is a failure: logged as an error (secrets redacted) and shown with a
 *   "Show Logs" button, never left unhandled.
 *
 * Commands that need a signed-in deployment are also disabled (`enablement` in package.json,
 * on the `coderStatus.signedIn` context key), so the refusal is a fallback for callers that
 * bypass the UI (another extension, a keybinding with args).
 */
import * as vscode from 'vscode';
import { errorText } from '../../api/errors';
import type { Ctx } from '../ctx';

/** A refusal meant for the user, with the message to show; not a failure. */
export class UserRefusal extends Error {
  override readonly name = 'UserRefusal';
}

export type CommandHandler = (...args: unknown[]) => unknown;

/** Command id -> handler, for `registerCommandTable`. */
export type CommandTable = Readonly<Record<string, CommandHandler>>;

export interface CommandContext {
  ctx: Ctx;
  /** Values to redact from a failure's text (the open deployments' tokens and header values). */
  secrets(): readonly string[];
}

/** Registers every entry of `table` behind the wrapper; the registrations are owned by `ctx`. */
export function registerCommandTable(c: CommandContext, table: CommandTable): void {
  for (const [id, handler] of Object.entries(table)) {
    c.ctx.pushCleanup(vscode.commands.registerCommand(id, (...args: unknown[]) => runCommand(c, id, handler, args)));
  }
}

/** Runs one handler behind the wrapper; resolves to its result, or undefined when it threw. */
export async function runCommand(c: CommandContext, id: string, handler: CommandHandler, args: unknown[]): Promise<unknown> {
  try {
    return await handler(...args);
  } catch (e) {
    if (e instanceof vscode.CancellationError) return undefined;
    const text = errorText(e, c.secrets());
    if (e instanceof UserRefusal) {
      c.ctx.log.info(`${id}: ${text}`);
      void vscode.window.showInformationMessage(text);
      return undefined;
    }
    c.ctx.log.error(`${id} failed: ${text}`);
    const showLogs = vscode.l10n.t('Show Logs');
    void vscode.window.showErrorMessage(vscode.l10n.t('Coder: {0}', text), showLogs).then((a) => {
      if (a === showLogs) c.ctx.log.show(true);
    });
    return undefined;
  }
}

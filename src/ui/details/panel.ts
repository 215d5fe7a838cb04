/**
 * Host side of the agent details panel: one webview panel per agent (opened, or restored by
 * VS Code after a window reload), fed live from a DetailsSource (which the UI layer implements
 * over the fleet), and turning the page's buttons into the extension's commands. The page is a separate, less trusted context: every message
 * from it is validated, and nothing secret is ever sent to it.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import type { Clock, TimerHandle } from '../../common/clock';
import type { Disposable } from '../../common/disposable';
import { DisposableStore } from '../../common/disposable';
import type { Logger } from '../../common/log';
import type { AgentDetailsView, DetailsAction, DetailsPanelState, HostMessage, LogLine, LogStatus } from '../../protocol/detailsPanel';
import { clampText, logMessages, MAX_TEXT, parseWebviewMessage } from '../../protocol/detailsPanel';
import { detailsStrings } from './strings';

/** Where the startup logs of one agent ID are delivered, backlog first. */
export interface LogSink {
  lines(lines: readonly LogLine[]): void;
  status(status: LogStatus, message?: string): void;
}

/** What the panel shows, implemented by the UI layer over the fleet's data flow. */
export interface DetailsSource {
  /** Stable across agent-ID changes (e.g. deployment + workspace id + agent name): one panel per key. */
  readonly key: string;
  /** Which agent, as the page keeps it for VS Code to restore the panel after a reload. */
  readonly state: DetailsPanelState;
  /** The current view, or undefined when the agent is gone (workspace deleted, signed out). */
  getView(): AgentDetailsView | undefined;
  /** True while there is no view only because the deployment's data has not arrived yet (after a reload). */
  loading(): boolean;
  /** Fires whenever the view may have changed (any fleet change touching the agent). */
  onDidChange(listener: () => void): Disposable;
  /** Follows the startup logs of one agent ID until disposed. */
  followLogs(agentId: string, sink: LogSink): Disposable;
  /** Called when the panel closes, so that the source can release what it holds. */
  dispose?(): void;
}

export interface DetailsPanelContext {
  extensionUri: vscode.Uri;
  log: Logger;
  clock: Clock;
}

/** The webview panel type, also named by the `onWebviewPanel:` activation event in package.json. */
export const DETAILS_VIEW_TYPE = 'coderStatus.details';

/** The command each button runs, and which id it passes. */
const COMMANDS: Record<DetailsAction, { command: string; arg: (v: AgentDetailsView) => string }> = {
  replay: { command: 'coderStatus.replayLifecycle', arg: (v) => v.agentId },
  reinitialize: { command: 'coderStatus.reinitializeAgent', arg: (v) => v.agentId },
  restart: { command: 'coderStatus.restartWorkspace', arg: (v) => v.workspaceId },
  reconnect: { command: 'coderStatus.reconnect', arg: (v) => v.agentId },
  copyDiagnostics: { command: 'coderStatus.copyDiagnostics', arg: (v) => v.agentId },
};

/** Lines kept on the host so that a recreated page (hidden, then shown) gets the backlog. */
const MAX_BUFFERED_LINES = 5000;
/** Bursts of fleet changes (a whole workspace per frame) are coalesced into one post. */
const UPDATE_DELAY_MS = 50;

export class DetailsPanel implements Disposable {
  private static readonly open = new Map<string, DetailsPanel>();

  /** Opens the panel for the source's agent, or reveals it when it is already open. */
  static show(ctx: DetailsPanelContext, source: DetailsSource): void {
    const existing = DetailsPanel.open.get(source.key);
    if (existing) {
      source.dispose?.();
      existing.panel.reveal();
      return;
    }
    const view = source.getView();
    const panel = vscode.window.createWebviewPanel(
      DETAILS_VIEW_TYPE,
      view ? titleOf(view) : vscode.l10n.t('Agent Details'),
      vscode.ViewColumn.Active,
      { ...webviewOptions(ctx.extensionUri), enableFindWidget: true },
    );
    DetailsPanel.open.set(source.key, new DetailsPanel(ctx, panel, source));
  }

  /** Takes over a panel VS Code restored after a reload (the serializer found its agent in the state). */
  static restore(ctx: DetailsPanelContext, panel: vscode.WebviewPanel, source: DetailsSource): void {
    if (DetailsPanel.open.has(source.key)) {
      source.dispose?.();
      panel.dispose();
      return;
    }
    panel.webview.options = webviewOptions(ctx.extensionUri);
    DetailsPanel.open.set(source.key, new DetailsPanel(ctx, panel, source));
  }

  /** For deactivate: closes every panel. */
  static disposeAll(): void {
    for (const p of [...DetailsPanel.open.values()]) p.dispose();
  }

  private readonly store = new DisposableStore();
  private logFollow: Disposable | undefined;
  private followedAgentId: string | undefined;
  private logBuffer: LogLine[] = [];
  private logStatus: HostMessage | undefined;
  private ready = false;
  private lastSent: string | undefined;
  private pending: TimerHandle | undefined;
  private readonly running = new Set<DetailsAction>();
  private disposed = false;

  private constructor(
    private readonly ctx: DetailsPanelContext,
    private readonly panel: vscode.WebviewPanel,
    private readonly source: DetailsSource,
  ) {
    this.panel.iconPath = vscode.Uri.joinPath(ctx.extensionUri, 'media', 'coder-status.svg');
    this.panel.webview.html = this.html();
    this.store.add(this.panel.webview.onDidReceiveMessage((m: unknown) => this.receive(m)));
    this.store.add(
      this.panel.onDidChangeViewState((e) => {
        // A hidden page is destroyed (no retainContextWhenHidden); it says `ready` again when shown.
        if (!e.webviewPanel.visible) {
          this.ready = false;
          this.lastSent = undefined;
        }
      }),
    );
    this.store.add(this.panel.onDidDispose(() => this.dispose()));
    this.store.add(source.onDidChange(() => this.scheduleUpdate()));
    this.followLogsOf(source.getView()?.agentId);
  }

  private html(): string {
    const webview = this.panel.webview;
    const nonce = randomBytes(18).toString('base64');
    const script = webview.asWebviewUri(vscode.Uri.joinPath(this.ctx.extensionUri, 'dist', 'webview.js'));
    const style = webview.asWebviewUri(vscode.Uri.joinPath(this.ctx.extensionUri, 'media', 'details.css'));
    const csp = [
      `default-src 'none'`,
      `script-src 'nonce-${nonce}'`,
      `style-src ${webview.cspSource}`,
      `font-src ${webview.cspSource}`,
    ].join('; ');
    // Only fixed markup and extension URIs here: all agent data and texts arrive later as messages.
    return `<!DOCTYPE html>
<html lang="${escapeHtml(vscode.env.language)}">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${style.toString()}">
<title>${escapeHtml(vscode.l10n.t('Agent Details'))}</title>
</head>
<body>
<main id="app" aria-live="polite"></main>
<script nonce="${nonce}" src="${script.toString()}"></script>
</body>
</html>`;
  }

  private receive(raw: unknown): void {
    const checked = parseWebviewMessage(raw);
    if (!checked.ok) {
      this.ctx.log.warn(`details panel ${this.source.key}: ignored an invalid message from the page (${checked.reason})`);
      return;
    }
    const msg = checked.message;
    if (msg.type === 'ready') {
      this.ready = true;
      this.lastSent = undefined;
      this.post({ type: 'init', strings: detailsStrings(), panelState: this.source.state });
      this.update(true);
      return;
    }
    if (msg.type === 'rejected') {
      this.ctx.log.warn(`details panel ${this.source.key}: the page ignored an invalid message (${msg.reason})`);
      return;
    }
    void this.runAction(msg.action);
  }

  private async runAction(action: DetailsAction): Promise<void> {
    // The page disables a button until its action is done; a page that does not (or a
    // repeated message) must still not start the same command twice.
    if (this.running.has(action)) return;
    const view = this.source.getView();
    let ok = false;
    this.running.add(action);
    if (view && view.actions[action]) {
      const { command, arg } = COMMANDS[action];
      this.ctx.log.info(`details panel: ${action} requested for ${view.workspaceName}.${view.agentName}`);
      try {
        await vscode.commands.executeCommand(command, arg(view));
        ok = true;
      } catch (e) {
        this.ctx.log.error(`details panel: ${command} failed: ${e instanceof Error ? e.message : String(e)}`);
      }
    } else {
      this.ctx.log.warn(`details panel: ${action} is not available for ${this.source.key} right now`);
    }
    this.running.delete(action);
    this.post({ type: 'actionDone', action, ok });
  }

  private scheduleUpdate(): void {
    if (this.pending !== undefined || this.disposed) return;
    this.pending = this.ctx.clock.setTimeout(() => {
      this.pending = undefined;
      this.update(false);
    }, UPDATE_DELAY_MS);
  }

  /** Sends the current view (when it changed) and follows the logs of the current agent ID. */
  private update(withLogs: boolean): void {
    if (this.disposed) return;
    const view = this.source.getView();
    if (view) this.panel.title = titleOf(view);
    if (view?.agentId !== this.followedAgentId) this.followLogsOf(view?.agentId);
    else if (withLogs) this.sendLogBacklog();
    // The page keeps saying "loading" until the deployment's first answer after a reload.
    if (!view && this.source.loading()) return;
    const message: HostMessage = view
      ? { type: 'state', agent: view }
      : {
          type: 'gone',
          reason: vscode.l10n.t(
            'This agent is no longer known: its workspace was deleted or rebuilt without it, or the deployment was signed out.',
          ),
        };
    // asOf moves on every read; only a change of what is shown is worth a post (and a re-render).
    const serialized = JSON.stringify(view ? { ...view, asOf: 0 } : message);
    if (serialized === this.lastSent) return;
    if (this.post(message)) this.lastSent = serialized;
  }

  private followLogsOf(agentId: string | undefined): void {
    this.logFollow?.dispose();
    this.logFollow = undefined;
    this.followedAgentId = agentId;
    this.logBuffer = [];
    this.logStatus = undefined;
    this.post({ type: 'logs', reset: true, lines: [] });
    if (!agentId) return;
    const follow = this.source.followLogs(agentId, {
      lines: (lines) => {
        if (this.followedAgentId !== agentId || this.disposed) return;
        const clamped = lines.map((l) => (l.output.length > MAX_TEXT ? { ...l, output: clampText(l.output, MAX_TEXT) } : l));
        this.logBuffer.push(...clamped);
        if (this.logBuffer.length > MAX_BUFFERED_LINES) this.logBuffer.splice(0, this.logBuffer.length - MAX_BUFFERED_LINES);
        for (const m of logMessages(clamped, false)) this.post(m);
      },
      status: (status, message) => {
        if (this.followedAgentId !== agentId || this.disposed) return;
        this.logStatus = { type: 'logStatus', status, message: message ? clampText(message) : null };
        this.post(this.logStatus);
      },
    });
    this.logFollow = follow;
  }

  private sendLogBacklog(): void {
    for (const m of logMessages(this.logBuffer, true)) this.post(m);
    if (this.logStatus) this.post(this.logStatus);
  }

  /** Posts only to a page that said `ready`; a page that is not there yet gets everything then. */
  private post(message: HostMessage): boolean {
    if (!this.ready || this.disposed) return false;
    void this.panel.webview.postMessage(message);
    return true;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.pending?.cancel();
    DetailsPanel.open.delete(this.source.key);
    this.logFollow?.dispose();
    this.store.dispose();
    this.source.dispose?.();
    this.panel.dispose();
  }
}

function webviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  const roots = [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')];
  return { enableScripts: true, enableCommandUris: false, localResourceRoots: roots };
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function titleOf(v: AgentDetailsView): string {
  return `${v.workspaceName}.${v.agentName}`;
}

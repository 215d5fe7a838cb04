/**
 * The open deployments, kept in step with the deployment store (sign-in, sign-out, found
 * logins) and with the sync settings. Opening and closing run one at a time, so a burst of
 * store events cannot open the same deployment twice.
 */
import * as vscode from 'vscode';
import { errorText } from '../../api/errors';
import { Emitter, type Disposable } from '../../common/disposable';
import type { Change } from '../../model/types';
import type { Ctx } from '../ctx';
import type { DeploymentStore } from '../auth/deploymentStore';
import { DeploymentSession } from './deploymentSession';

export interface SessionChange {
  session: DeploymentSession;
  changes: Change[];
}

export class OpenDeployments implements Disposable {
  private readonly open = new Map<string, { session: DeploymentSession; sub: Disposable }>();
  private readonly listChanged = new Emitter<void>();
  private readonly modelChanged = new Emitter<SessionChange>();
  /** A deployment was opened or closed. */
  readonly onDidChangeSessions = this.listChanged.event;
  /** Something changed in one deployment's model. */
  readonly onDidChange = this.modelChanged.event;
  private queue: Promise<void> = Promise.resolve();
  private disposed = false;

  constructor(
    private readonly ctx: Ctx,
    private readonly store: DeploymentStore,
  ) {
    ctx.pushCleanup(store.onDidChange((e) => this.reconcile(e.tokenChanged)));
    ctx.pushCleanup(
      ctx.config.onDidChange((affects) => {
        if (['workspaceFilter', 'pollInterval', 'maxLiveWorkspaces', 'fleetResyncInterval'].some(affects)) {
          this.ctx.log.info(`sync settings changed: ${JSON.stringify(ctx.config.sync)}`);
          for (const s of this.list()) s.sync.updateSettings(ctx.config.sync);
        }
        if (['headerCommand', 'tlsCaFile', 'insecure'].some(affects)) void this.reconcile(this.list().map((s) => s.url));
      }),
    );
  }

  list(): DeploymentSession[] {
    return [...this.open.values()].map((o) => o.session);
  }

  get(url: string): DeploymentSession | undefined {
    return this.open.get(url)?.session;
  }

  /** Opens what the store lists and is not open, closes what it no longer lists; reopens `reopen`. */
  reconcile(reopen: readonly string[] = []): Promise<void> {
    this.queue = this.queue
      .then(() => this.reconcileNow(reopen))
      .catch((e: unknown) => {
        this.ctx.log.error(`updating the open deployments failed: ${errorText(e)}`);
      });
    return this.queue;
  }

  /**
   * The deployment refused the session token (expired, revoked): say so once, with a way to sign
   * in again. The sync sends nothing more to that deployment until then (one prompt, no loop).
   */
  private askToSignIn(url: string, reason: string): void {
    const host = new URL(url).host;
    this.ctx.log.info(`${url}: asking to sign in again`);
    const signIn = vscode.l10n.t('Sign In');
    void vscode.window
      .showWarningMessage(
        vscode.l10n.t('Coder: {0} no longer accepts the session token ({1}). Sign in again to see its workspaces.', host, reason),
        signIn,
      )
      .then((choice) => {
        if (choice === signIn) void vscode.commands.executeCommand('coderStatus.signIn', url);
      });
  }

  private async reconcileNow(reopen: readonly string[]): Promise<void> {
    if (this.disposed) return;
    const wanted = this.store.list().map((d) => d.url);
    let changed = false;
    for (const url of [...this.open.keys()]) {
      if (wanted.includes(url) && !reopen.includes(url)) continue;
      this.close(url);
      changed = true;
    }
    for (const url of wanted) {
      if (this.open.has(url)) continue;
      const token = await this.store.token(url);
      if (this.disposed) return;
      if (!token) {
        this.ctx.log.warn(`${url}: no session token; sign in again`);
        continue;
      }
      try {
        const session = await DeploymentSession.open(this.ctx, url, token);
        const seen = new Map<string, string>();
        if (this.disposed) return session.dispose();
        const sub = session.onDidChange((changes) => {
          logChanges(this.ctx, session, changes, seen);
          for (const c of changes)
            if (c.kind === 'connection-changed' && c.state.kind === 'signed-out') this.askToSignIn(url, c.state.error);
          this.modelChanged.fire({ session, changes });
        });
        this.open.set(url, { session, sub });
        session.start();
        changed = true;
      } catch (e) {
        const text = errorText(e, [token]);
        this.ctx.log.error(`${url}: cannot open the deployment: ${text}`);
        const showLogs = vscode.l10n.t('Show Logs');
        void vscode.window.showErrorMessage(vscode.l10n.t('Coder: cannot connect to {0}: {1}', url, text), showLogs).then((a) => {
          if (a) this.ctx.log.show(true);
        });
      }
    }
    if (changed) this.listChanged.fire();
  }

  private close(url: string): void {
    const o = this.open.get(url);
    if (!o) return;
    this.open.delete(url);
    o.sub.dispose();
    o.session.dispose();
  }

  dispose(): void {
    this.disposed = true;
    for (const url of [...this.open.keys()]) this.close(url);
    this.listChanged.dispose();
    this.modelChanged.dispose();
  }
}

/**
 * The state changes worth a line: connection state, workspaces coming and going, agent-ID
 * changes, and each agent's lifecycle/status as it moves (`seen`: agent id -> last logged state).
 */
function logChanges(ctx: Ctx, session: DeploymentSession, changes: Change[], seen: Map<string, string>): void {
  const url = session.url;
  const agents = new Set<string>();
  for (const c of changes) {
    if (c.kind === 'agent-changed') agents.add(c.agentId);
    if (c.kind === 'workspace-changed' || c.kind === 'workspace-added')
      for (const a of session.fleet.agentsOf(c.workspaceId)) agents.add(a.id);
    if (c.kind === 'connection-changed')
      ctx.log.info(`${url}: connection ${c.state.kind}${'error' in c.state ? ` (${c.state.error})` : ''}`);
    else if (c.kind === 'agent-id-changed')
      ctx.log.info(
        `${url}: agent ${c.agentName} of workspace ${c.workspaceId} changed ID ${c.oldId} -> ${c.newId} in build ${c.buildNumber}`,
      );
    else if (c.kind === 'workspace-added' || c.kind === 'workspace-removed') ctx.log.debug(`${url}: ${c.kind} ${c.workspaceId}`);
  }
  for (const id of agents) {
    const found = session.fleet.agentById(id);
    if (!found) continue;
    const state = `${found.agent.lifecycle_state}/${found.agent.status}`;
    if (seen.get(id) === state) continue;
    seen.set(id, state);
    ctx.log.info(`${url}: agent ${found.workspace.name}.${found.agent.name} (${id}) is ${state}`);
  }
}

/**
 * One open deployment: its network and its core (REST client, model and sync, built by
 * sync/deploymentCore.ts), created together and disposed together. The UI reads `fleet` and listens to `onDidChange`; nothing here decides.
 */
import type { CoderClient } from '../../api/client';
import { errorText } from '../../api/errors';
import type { Network } from '../../api/network';
import { DisposableStore, Emitter, type Disposable } from '../../common/disposable';
import type { DevcontainerStore } from '../../model/devcontainers';
import type { Fleet } from '../../model/fleet';
import type { Change } from '../../model/types';
import type { DeploymentSync } from '../../sync/deployment';
import { createDeploymentCore } from '../../sync/deploymentCore';
import type { Ctx } from '../ctx';
import { networkFromSettings } from '../auth/signIn';

export class DeploymentSession implements Disposable {
  private readonly changes = new Emitter<Change[]>();
  /** Fires with what changed in this deployment's model. */
  readonly onDidChange = this.changes.event;
  private readonly store = new DisposableStore();
  /** The signed-in user's name, once known (owners other than this are shown in the tree). */
  username: string | undefined;
  /** The deployment's `/buildinfo` version, once known (the doctor compares agents with it). */
  serverVersion: string | undefined;

  static async open(ctx: Ctx, url: string, token: string): Promise<DeploymentSession> {
    const network = await networkFromSettings(url, ctx.log);
    ctx.log.info(`${url}: network ${network.summary}`);
    return new DeploymentSession(ctx, url, token, network);
  }

  readonly client: CoderClient;
  readonly fleet: Fleet;
  readonly devcontainers: DevcontainerStore;
  readonly sync: DeploymentSync;

  private constructor(
    private readonly ctx: Ctx,
    readonly url: string,
    token: string,
    private readonly network: Network,
  ) {
    this.store.addFn(() => void network.dispose());
    const core = this.store.add(
      createDeploymentCore({
        url,
        token,
        clock: ctx.clock,
        log: ctx.log,
        settings: ctx.config.sync,
        transport: { fetch: network.fetch, headers: () => network.headers(), wsAgent: network.wsAgent },
        fleetPush: true,
      }),
    );
    ({ client: this.client, fleet: this.fleet, devcontainers: this.devcontainers, sync: this.sync } = core);
    this.store.add(this.sync.onChanges((c) => this.changes.fire(c)));
    this.store.add(this.changes);
  }

  /** The texts a report must never contain: the session token and the header command's values. */
  async secrets(): Promise<string[]> {
    const headers = await this.network.headers().catch(() => ({}));
    return [...this.client.secrets, ...Object.values(headers)];
  }

  start(): void {
    this.ctx.log.info(`${this.url}: starting the live connection`);
    this.sync.start();
    void this.learnUsername();
    void this.learnServerVersion();
  }

  private async learnServerVersion(): Promise<void> {
    try {
      const info = await this.client.buildInfo();
      if (this.store.isDisposed) return;
      this.serverVersion = info.version;
      this.ctx.log.info(`${this.url}: Coder ${info.version}`);
      // An upgrade may add a repair operation: what was learned on another version is dropped.
      const before = this.ctx.operations.serverVersion(this.url);
      if (this.ctx.operations.setServerVersion(this.url, info.version)) {
        if (before !== undefined) this.ctx.log.info(`${this.url}: server version was ${before}: repair operations will be asked again`);
        this.ctx.rememberOperations();
      }
      const changed: Change[] = this.fleet.workspaces().map((w) => ({ kind: 'workspace-changed', workspaceId: w.id, buildChanged: false }));
      if (changed.length) this.changes.fire(changed);
    } catch (e) {
      this.ctx.log.debug(`${this.url}: server version not known yet: ${errorText(e, this.client.secrets)}`);
    }
  }

  private async learnUsername(): Promise<void> {
    try {
      const me = await this.client.me();
      if (this.store.isDisposed) return;
      this.username = me.username;
      this.ctx.log.info(`${this.url}: signed in as ${me.username}`);
      // Owner columns depend on it: every workspace node may read differently now.
      const changed: Change[] = this.fleet.workspaces().map((w) => ({ kind: 'workspace-changed', workspaceId: w.id, buildChanged: false }));
      if (changed.length) this.changes.fire(changed);
    } catch (e) {
      // The sync reports the same failure as a connection state; this is only for the owner column.
      this.ctx.log.debug(`${this.url}: user name not known yet: ${errorText(e, this.client.secrets)}`);
    }
  }

  dispose(): void {
    this.ctx.log.info(`${this.url}: closed`);
    this.store.dispose();
  }
}

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
    network: Network,
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

  start(): void {
    this.ctx.log.info(`${this.url}: starting the live connection`);
    this.sync.start();
    void this.learnUsername();
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

/**
 * One open deployment: its network, REST client, model and sync, created together and
 * disposed together. The UI reads `fleet` and listens to `onDidChange`; nothing here decides.
 */
import { CoderClient } from '../../api/client';
import { errorText } from '../../api/errors';
import type { Network } from '../../api/network';
import { DisposableStore, Emitter, type Disposable } from '../../common/disposable';
import { Fleet } from '../../model/fleet';
import type { Change } from '../../model/types';
import { DeploymentSync } from '../../sync/deployment';
import { tailnetFleetPush } from '../../sync/tailnetFleetPush';
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
  readonly sync: DeploymentSync;

  private constructor(
    private readonly ctx: Ctx,
    readonly url: string,
    token: string,
    network: Network,
  ) {
    this.store.addFn(() => void network.dispose());
    this.client = new CoderClient({ baseUrl: url, token, fetch: network.fetch, headers: () => network.headers(), agent: network.wsAgent });
    this.fleet = new Fleet({ deploymentUrl: url, clock: ctx.clock });
    this.sync = this.store.add(
      new DeploymentSync({
        client: this.client,
        fleet: this.fleet,
        clock: ctx.clock,
        log: ctx.log,
        settings: ctx.config.sync,
        fleetPush: tailnetFleetPush({ client: this.client, clock: ctx.clock, log: ctx.log }),
      }),
    );
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

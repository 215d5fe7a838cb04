/**
 * Freshness of agent IDs under build churn: for every agent created at the simulator after
 * `since` (its `created_at`, the moment its start build succeeded, in wall-clock time), the lag
 * until a client first shows its ID. The simulator runs on the same machine's clock.
 */
import type { Core } from '../integration/core';

export class AgentIdFreshness {
  private readonly seen = new Set<string>();
  readonly lags: number[] = [];

  constructor(private readonly since: number) {}

  /** Agents a client shows now. */
  saw(agents: Iterable<{ id: string; created_at: string }>): void {
    const now = Date.now();
    for (const a of agents) {
      if (this.seen.has(a.id)) continue;
      this.seen.add(a.id);
      const created = Date.parse(a.created_at);
      if (created >= this.since) this.lags.push(now - created);
    }
  }

  /**
   * Agents of the server's state created since `since` that no client view showed: each counts
   * in the lags with its age now (a lower bound), and the count is returned.
   */
  unseen(state: { workspaces: { latest_build: { resources: { agents?: { id: string; created_at: string }[] }[] } }[] }): number {
    const now = Date.now();
    let n = 0;
    for (const ws of state.workspaces)
      for (const r of ws.latest_build.resources)
        for (const a of r.agents ?? []) {
          const created = Date.parse(a.created_at);
          if (this.seen.has(a.id) || created < this.since) continue;
          this.seen.add(a.id);
          this.lags.push(now - created);
          n++;
        }
    return n;
  }

  /** Follows the model of a core: on each change of a workspace, its agents. */
  follow(c: Core): { dispose(): void } {
    return c.sync.onChanges((changes) => {
      const touched = new Set<string>();
      for (const ch of changes) if ('workspaceId' in ch) touched.add(ch.workspaceId);
      for (const id of touched) this.saw(c.fleet.agentsOf(id));
    });
  }
}

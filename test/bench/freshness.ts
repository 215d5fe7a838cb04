/**
 * Freshness of agent IDs under build churn: for every agent created at the simulator after
 * `since` (its `created_at` in the simulator's state, the moment its start build succeeded, in
 * wall-clock time), the lag until a client first showed its ID. The creation time is always the
 * server's: a client's own row of an agent may carry another (a placeholder says when it heard).
 * The simulator runs on the same machine's clock.
 */
import type { Core } from '../integration/core';

type State = { workspaces: { latest_build: { resources: { agents?: { id: string; created_at: string }[] }[] } }[] };

export class AgentIdFreshness {
  private readonly firstSeen = new Map<string, number>();
  readonly lags: number[] = [];

  constructor(private readonly since: number) {}

  /** Agents a client shows now. */
  saw(agents: Iterable<{ id: string }>): void {
    const now = Date.now();
    for (const a of agents) if (!this.firstSeen.has(a.id)) this.firstSeen.set(a.id, now);
  }

  /**
   * Fills `lags` from the server's state: for each agent created since `since`, when a client
   * first showed it, or (never shown) its age now, a lower bound. Returns how many were never shown.
   */
  unseen(state: State): number {
    const now = Date.now();
    let n = 0;
    for (const ws of state.workspaces)
      for (const r of ws.latest_build.resources)
        for (const a of r.agents ?? []) {
          const created = Date.parse(a.created_at);
          if (created < this.since) continue;
          const seen = this.firstSeen.get(a.id);
          if (seen === undefined) n++;
          this.lags.push(Math.max(0, (seen ?? now) - created));
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

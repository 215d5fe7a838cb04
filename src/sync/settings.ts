/** The user's sync settings, as DeploymentSync takes them. */

export interface SyncSettings {
  workspaceFilter: string;
  pollIntervalMs: number;
  maxLiveWorkspaces: number;
  /** The list poll is this many times slower while the view is hidden. Default 4. */
  hiddenPollFactor?: number;
  /** Safety list read while the fleet push serves; 0 turns it off. Default 10 min. */
  fleetResyncIntervalMs?: number;
}

const MIN_POLL_MS = 500;

/** Applies the defined fields of `next`; keeps periods in a range that cannot hammer the server. */
export function mergeSettings(base: SyncSettings, next: Partial<SyncSettings>): Required<SyncSettings> {
  const m = { ...base };
  for (const [k, v] of Object.entries(next)) if (v !== undefined) (m as Record<string, unknown>)[k] = v;
  return {
    workspaceFilter: m.workspaceFilter,
    pollIntervalMs: Math.max(MIN_POLL_MS, m.pollIntervalMs || MIN_POLL_MS),
    maxLiveWorkspaces: m.maxLiveWorkspaces,
    hiddenPollFactor: Math.max(1, m.hiddenPollFactor ?? 4),
    fleetResyncIntervalMs: resyncMs(m.fleetResyncIntervalMs),
  };
}

const DEFAULT_RESYNC_MS = 10 * 60_000;
const MIN_RESYNC_MS = 1000;

function resyncMs(v: number | undefined): number {
  if (v === undefined || !Number.isFinite(v) || v < 0) return DEFAULT_RESYNC_MS;
  return v === 0 ? 0 : Math.max(MIN_RESYNC_MS, v);
}

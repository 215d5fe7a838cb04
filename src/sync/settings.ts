/** The user's sync settings, as DeploymentSync takes them. */

export interface SyncSettings {
  workspaceFilter: string;
  pollIntervalMs: number;
  maxLiveWorkspaces: number;
  /** The list poll is this many times slower while the view is hidden. Default 4. */
  hiddenPollFactor?: number;
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
  };
}

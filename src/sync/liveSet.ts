/**
 * Which workspaces get a live stream. Streams are a limited resource (one socket each, and
 * server-side watchers), so they go where staleness hurts most: the bound workspace always,
 * then what the user is looking at, then the user's running workspaces. The rest are polled.
 */
import type { Workspace } from '../api/schemas';

export interface LiveSetInput {
  bound: string | undefined;
  /** Expanded or visible tree nodes, most important first. */
  visible: readonly string[];
  /** Known workspaces, in the order the server listed them. */
  workspaces: readonly Workspace[];
  /** Signed-in user's name; undefined means "do not filter by owner". */
  username: string | undefined;
  max: number;
}

export function isRunning(ws: Workspace): boolean {
  const b = ws.latest_build;
  // A start build in progress is where the interesting lifecycle changes happen: keep it live.
  return b.transition === 'start' && (b.status === 'running' || b.status === 'starting' || b.status === 'pending');
}

export function chooseLiveSet(input: LiveSetInput): string[] {
  const max = Math.max(1, Math.floor(input.max));
  const out: string[] = [];
  const add = (id: string) => {
    if (!out.includes(id)) out.push(id);
  };
  if (input.bound) add(input.bound);
  const known = new Set(input.workspaces.map((w) => w.id));
  for (const id of input.visible) {
    if (out.length >= max) break;
    if (known.has(id)) add(id);
  }
  for (const ws of input.workspaces) {
    if (out.length >= max) break;
    if (input.username !== undefined && ws.owner_name !== input.username) continue;
    if (isRunning(ws)) add(ws.id);
  }
  return out;
}

/**
 * Every key this extension stores, in one place, each with its scope said out loud:
 *
 * - global: every window of this editor (VS Code's globalState): the deployments signed in to,
 *   the ones signed out of, the recent automatic reconnects (the loop cap), which repair
 *   operations each deployment offers, and the earlier stuck builds of each workspace (the
 *   doctor's record: a restart reloads the window, and the record is about the workspace).
 * - workspace: this workspace, whichever window has it open (workspaceState): the agent picked
 *   for it and the binding's agent-ID history.
 * - window: this window across its reloads: global storage under the window's remote authority
 *   and folder. A reload keeps both and gets the value back; another window that starts
 *   meanwhile has another folder, so it never sees it (the "Reconnected" notice).
 * - secret: session tokens, one per deployment URL, in SecretStorage.
 *
 * Reads are tolerant: a value of the wrong shape (an older version, a hand-edited state) reads
 * as absent, never as a crash.
 */
import type * as vscode from 'vscode';
import { parseStuckRecord, type StuckRecord } from '../model/doctor';
import { OperationSupport } from '../model/operations';

export interface PickedBinding {
  owner: string | null;
  workspace: string;
  agent: string | null;
  url?: string;
}

export interface ReconnectNotice {
  text: string;
  /** Local clock time (ms) when it was written. */
  at: number;
}

const KEYS = {
  deployments: 'coderStatus.deployments',
  dismissedDeployments: 'coderStatus.dismissedDeployments',
  loopHistory: 'coderStatus.loopHistory',
  pickedBinding: 'coderStatus.pickedBinding',
  bindingHistory: 'coderStatus.bindingHistory',
  reconnectNotice: 'coderStatus.reconnectNotice',
  repairRoutes: 'coderStatus.repairRoutes',
  stuckBuilds: 'coderStatus.stuckBuilds',
} as const;

/** How long a stored "Reconnected" notice is still worth showing after the reload. */
export const RECONNECT_NOTICE_LIFETIME_MS = 5 * 60_000;

const SECRET_PREFIX = 'coderStatus.token:';

/** The SecretStorage key of a deployment's session token. */
export function tokenSecretKey(url: string): string {
  return `${SECRET_PREFIX}${url}`;
}

/** The deployment URL a SecretStorage key belongs to, or undefined for a key not ours. */
export function urlOfTokenSecretKey(key: string): string | undefined {
  return key.startsWith(SECRET_PREFIX) ? key.slice(SECRET_PREFIX.length) : undefined;
}

/**
 * What identifies a window across its reloads: its remote authority and its folder (or
 * workspace file), e.g. from `vscode.workspace` and `vscode.env.remoteName`.
 */
export function windowKey(remoteAuthority: string | undefined, folder: string | undefined): string {
  return `${remoteAuthority ?? ''}|${folder ?? ''}`;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((u): u is string => typeof u === 'string') : [];
}

export class PersistentState {
  constructor(
    private readonly global: vscode.Memento,
    private readonly workspace: vscode.Memento,
    /** `windowKey(...)` of this window. */
    private readonly window: string,
  ) {}

  // global

  get deployments(): string[] {
    return strings(this.global.get(KEYS.deployments));
  }
  setDeployments(urls: readonly string[]): Thenable<void> {
    return this.global.update(KEYS.deployments, [...urls]);
  }

  get dismissedDeployments(): string[] {
    return strings(this.global.get(KEYS.dismissedDeployments));
  }
  setDismissedDeployments(urls: readonly string[]): Thenable<void> {
    return this.global.update(KEYS.dismissedDeployments, [...urls]);
  }

  /** Workspace ID -> times of its automatic reconnects. */
  get loopHistory(): Record<string, number[]> {
    const v = this.global.get<unknown>(KEYS.loopHistory);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return {};
    const out: Record<string, number[]> = {};
    for (const [k, times] of Object.entries(v)) {
      if (Array.isArray(times)) out[k] = times.filter((t): t is number => typeof t === 'number');
    }
    return out;
  }
  setLoopHistory(h: Record<string, number[]>): Thenable<void> {
    return this.global.update(KEYS.loopHistory, h);
  }

  /** What each deployment answered on the repair routes (`OperationSupport.toJSON()`). */
  get operations(): OperationSupport {
    return OperationSupport.fromJSON(this.global.get<unknown>(KEYS.repairRoutes));
  }
  setOperations(ops: OperationSupport): Thenable<void> {
    return this.global.update(KEYS.repairRoutes, ops.toJSON());
  }

  /** `<deployment URL>|<workspace ID>` -> the workspace's earlier stuck builds. */
  get stuckBuilds(): Record<string, StuckRecord> {
    const v = this.global.get<unknown>(KEYS.stuckBuilds);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return {};
    const out: Record<string, StuckRecord> = {};
    for (const [k, raw] of Object.entries(v)) {
      const r = parseStuckRecord(raw);
      if (r) out[k] = r;
    }
    return out;
  }
  setStuckBuilds(records: Record<string, StuckRecord>): Thenable<void> {
    return this.global.update(KEYS.stuckBuilds, records);
  }

  // workspace

  get pickedBinding(): PickedBinding | undefined {
    const v = this.workspace.get<{ owner?: unknown; workspace?: unknown; agent?: unknown; url?: unknown }>(KEYS.pickedBinding);
    if (typeof v !== 'object' || v === null || typeof v.workspace !== 'string') return undefined;
    return {
      owner: typeof v.owner === 'string' ? v.owner : null,
      workspace: v.workspace,
      agent: typeof v.agent === 'string' ? v.agent : null,
      ...(typeof v.url === 'string' ? { url: v.url } : {}),
    };
  }
  setPickedBinding(b: PickedBinding | undefined): Thenable<void> {
    return this.workspace.update(KEYS.pickedBinding, b);
  }

  /** The binding's agent-ID history as `BindingTracker.toJSON()` wrote it (it validates what it reads). */
  get bindingHistory(): unknown {
    return this.workspace.get<unknown>(KEYS.bindingHistory);
  }
  setBindingHistory(json: unknown): Thenable<void> {
    return this.workspace.update(KEYS.bindingHistory, json);
  }

  // window

  get reconnectNotice(): ReconnectNotice | undefined {
    const all = this.global.get<Record<string, { text?: unknown; at?: unknown }>>(KEYS.reconnectNotice);
    const n = typeof all === 'object' && all !== null ? all[this.window] : undefined;
    return n && typeof n.text === 'string' && typeof n.at === 'number' ? { text: n.text, at: n.at } : undefined;
  }
  setReconnectNotice(n: ReconnectNotice | undefined): Thenable<void> {
    const v = this.global.get<unknown>(KEYS.reconnectNotice);
    // Only this window's entry changes; other windows' notices (and a value of an older shape) stay or go as they are.
    const all: Record<string, unknown> = typeof v === 'object' && v !== null && !Array.isArray(v) && !('text' in v) ? { ...v } : {};
    if (n) all[this.window] = n;
    else delete all[this.window];
    // A window that never came back (closed, or reopened on another folder) leaves its entry behind: expire it.
    for (const [k, e] of Object.entries(all)) {
      const at = typeof e === 'object' && e !== null && 'at' in e ? e.at : undefined;
      if (n && (typeof at !== 'number' || at < n.at - RECONNECT_NOTICE_LIFETIME_MS)) delete all[k];
    }
    return this.global.update(KEYS.reconnectNotice, Object.keys(all).length > 0 ? all : undefined);
  }
}

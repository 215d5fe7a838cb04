/**
 * Typed view of the `coderStatus.*` settings. Values are read on every access, so a setting
 * changed by the user is seen at once; `onDidChange` says which keys moved.
 */
import * as vscode from 'vscode';
import type { ReconnectSettings } from '../model/reconnect';
import type { SyncSettings } from '../sync/settings';

const SECTION = 'coderStatus';

export class Config {
  private get cfg(): vscode.WorkspaceConfiguration {
    return vscode.workspace.getConfiguration(SECTION);
  }

  /** `coderStatus.url`: a deployment URL that overrides the one found in CODER_URL or the CLI login. */
  get url(): string {
    return this.cfg.get<string>('url', '').trim();
  }

  /** `coderStatus.binding`: `owner/workspace[.agent]`, '' when unset. */
  get binding(): string {
    return this.cfg.get<string>('binding', '').trim();
  }

  get stuckThresholdMs(): number {
    return seconds(this.cfg.get<number>('stuckThreshold', 20), 20) * 1000;
  }

  /** `coderStatus.reconnect.action`: auto | reload | rebind. */
  get reconnectAction(): string {
    return this.cfg.get<string>('reconnect.action', 'auto');
  }

  get reconnectTimeoutMs(): number {
    return seconds(this.cfg.get<number>('reconnect.timeout', 30), 30) * 1000;
  }

  /** `coderStatus.devcontainer.rebuildTimeout`: how long a dev-container rebuild may take before the wait gives up. */
  get devcontainerRebuildTimeoutMs(): number {
    return seconds(this.cfg.get<number>('devcontainer.rebuildTimeout', 600), 600) * 1000;
  }

  get validationDelayMs(): number {
    const v = this.cfg.get<number>('reconnect.validationDelay', 5);
    return (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : 5) * 1000;
  }

  get reconnect(): Partial<ReconnectSettings> {
    const oneOf = <T extends string>(key: string, values: readonly T[], fallback: T): T => {
      const v = this.cfg.get<string>(key, fallback);
      return (values as readonly string[]).includes(v) ? (v as T) : fallback;
    };
    return {
      autoReconnect: oneOf('autoReconnect', ['auto', 'ask', 'off'] as const, 'auto'),
      stuckAction: oneOf('stuckAction', ['ask', 'replay', 'reinitialize', 'none'] as const, 'ask'),
      stuckThresholdMs: this.stuckThresholdMs,
      timeoutMs: this.reconnectTimeoutMs,
    };
  }

  get sync(): SyncSettings {
    return {
      workspaceFilter: this.cfg.get<string>('workspaceFilter', 'owner:me').trim() || 'owner:me',
      pollIntervalMs: seconds(this.cfg.get<number>('pollInterval', 15), 15) * 1000,
      maxLiveWorkspaces: Math.max(1, Math.floor(this.cfg.get<number>('maxLiveWorkspaces', 20) || 20)),
      fleetResyncIntervalMs: minutesOrOff(this.cfg.get<number>('fleetResyncInterval', 10), 10) * 60_000,
    };
  }

  /** Calls `listener` with a predicate over short keys (`'binding'`, `'pollInterval'`, ...). */
  onDidChange(listener: (affects: (key: string) => boolean) => void): vscode.Disposable {
    return vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration(SECTION)) listener((key) => e.affectsConfiguration(`${SECTION}.${key}`));
    });
  }
}

/** A positive number of seconds, or the default for anything else a user may type. */
function seconds(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : fallback;
}

/** A non-negative number of minutes (0 = off), or the default for anything else. */
function minutesOrOff(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : fallback;
}

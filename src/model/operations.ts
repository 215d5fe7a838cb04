/**
 * Which repair operations each deployment supports, as learned from its answers.
 *
 * Lifecycle replay and reinitialization are not part of Coder's stable API: a deployment that
 * answers 404/405/501 lacks the operation, and asking again only costs a round trip. This is the
 * one memory of that, keyed by deployment URL. It is plain data (toJSON/fromJSON) so it can be
 * kept across reloads; what was learned about a deployment is dropped when its server version
 * changes, since an upgrade may add the operation.
 */

export type RepairOp = 'replay' | 'reinitialize';
export const REPAIR_OPS: readonly RepairOp[] = ['replay', 'reinitialize'];

/** `unknown` until the deployment has answered a request for the operation. */
export type OpSupport = 'unknown' | 'supported' | 'unsupported';

interface DeploymentEntry {
  /** The server version the answers were learned on, when known. */
  serverVersion?: string;
  ops: Partial<Record<RepairOp, 'supported' | 'unsupported'>>;
}

export type OperationSupportJSON = Record<string, DeploymentEntry>;

export class OperationSupport {
  private readonly entries = new Map<string, DeploymentEntry>();

  get(deployment: string, op: RepairOp): OpSupport {
    return this.entries.get(deployment)?.ops[op] ?? 'unknown';
  }

  /** Records an answer of the deployment. Returns whether anything changed (worth persisting). */
  record(deployment: string, op: RepairOp, support: 'supported' | 'unsupported'): boolean {
    const e = this.entry(deployment);
    if (e.ops[op] === support) return false;
    e.ops[op] = support;
    return true;
  }

  /**
   * Records what an HTTP answer on the operation's route says: 2xx: supported; 404/405/501:
   * unsupported, unless it worked before (then the 404 is about the agent, not the route);
   * anything else (a 409, a failure on the way, 0 for no answer) says nothing about the route.
   * Returns whether anything changed.
   */
  recordAnswer(deployment: string, op: RepairOp, status: number): boolean {
    if (status >= 200 && status < 300) return this.record(deployment, op, 'supported');
    if (isUnsupportedStatus(status) && this.get(deployment, op) !== 'supported') return this.record(deployment, op, 'unsupported');
    return false;
  }

  /** For logs and the diagnostics report: "replay=unsupported reinitialize=unknown (v2.24.1)". */
  describe(deployment: string): string {
    const version = this.serverVersion(deployment);
    return `${REPAIR_OPS.map((op) => `${op}=${this.get(deployment, op)}`).join(' ')}${version ? ` (${version})` : ''}`;
  }

  serverVersion(deployment: string): string | undefined {
    return this.entries.get(deployment)?.serverVersion;
  }

  /**
   * The deployment's current server version. A version other than the one the answers were
   * learned on forgets them. Returns whether anything changed.
   */
  setServerVersion(deployment: string, version: string): boolean {
    const e = this.entries.get(deployment);
    if (e?.serverVersion === version) return false;
    this.entries.set(deployment, { serverVersion: version, ops: e?.serverVersion === undefined ? (e?.ops ?? {}) : {} });
    return true;
  }

  /** A per-deployment view, for code that works on one deployment only. */
  of(deployment: string): DeploymentOperations {
    return {
      get: (op) => this.get(deployment, op),
      record: (op, support) => this.record(deployment, op, support),
    };
  }

  toJSON(): OperationSupportJSON {
    const out: OperationSupportJSON = {};
    for (const [url, e] of this.entries)
      out[url] = { ...(e.serverVersion !== undefined ? { serverVersion: e.serverVersion } : {}), ops: { ...e.ops } };
    return out;
  }

  /** Tolerant: anything malformed is skipped, never thrown. */
  static fromJSON(value: unknown): OperationSupport {
    const s = new OperationSupport();
    if (!isRecord(value)) return s;
    for (const [url, raw] of Object.entries(value)) {
      if (!isRecord(raw)) continue;
      const e = s.entry(url);
      if (typeof raw.serverVersion === 'string') e.serverVersion = raw.serverVersion;
      const ops = isRecord(raw.ops) ? raw.ops : {};
      for (const op of REPAIR_OPS) {
        const v = ops[op];
        if (v === 'supported' || v === 'unsupported') e.ops[op] = v;
      }
    }
    return s;
  }

  private entry(deployment: string): DeploymentEntry {
    let e = this.entries.get(deployment);
    if (!e) this.entries.set(deployment, (e = { ops: {} }));
    return e;
  }
}

/** The answers that mean "this deployment has no such route". */
export function isUnsupportedStatus(status: number): boolean {
  return status === 404 || status === 405 || status === 501;
}

/** What one deployment is known to support. */
export interface DeploymentOperations {
  get(op: RepairOp): OpSupport;
  record(op: RepairOp, support: 'supported' | 'unsupported'): boolean;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

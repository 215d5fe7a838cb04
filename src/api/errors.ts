/**
 * One error type for every way a call to the control plane can fail, so that callers decide
 * on `kind` and `status` instead of parsing messages. Texts never carry the session token:
 * whoever builds an error passes the secrets to redact.
 */
import { redact } from '../common/log';

export type ApiErrorKind = 'http' | 'network' | 'timeout' | 'aborted' | 'invalid-response';

export interface Validation {
  field: string;
  detail: string;
}

export interface CoderApiErrorInit {
  kind: ApiErrorKind;
  message: string;
  status?: number;
  detail?: string;
  validations?: Validation[];
  /** Method and path, e.g. "GET /api/v2/users/me", for log lines. */
  request?: string;
  /** Values that must never appear in the error's texts (the session token). */
  secrets?: readonly (string | undefined)[];
}

export class CoderApiError extends Error {
  readonly kind: ApiErrorKind;
  /** HTTP status; 0 when no answer came back (network, timeout, abort). */
  readonly status: number;
  readonly detail?: string;
  readonly validations?: Validation[];
  readonly request?: string;

  constructor(init: CoderApiErrorInit) {
    const secrets = init.secrets ?? [];
    super(redact(init.message, secrets));
    this.name = 'CoderApiError';
    this.kind = init.kind;
    this.status = init.status ?? 0;
    if (init.detail !== undefined) this.detail = redact(init.detail, secrets);
    if (init.validations) {
      this.validations = init.validations.map((v) => ({ field: v.field, detail: redact(v.detail, secrets) }));
    }
    if (init.request !== undefined) this.request = redact(init.request, secrets);
  }

  /** One line for logs and notifications: request, status, message and detail. */
  describe(): string {
    const parts = [this.request, this.status ? String(this.status) : this.kind, this.message];
    if (this.detail) parts.push(`(${this.detail})`);
    if (this.validations?.length) {
      parts.push(this.validations.map((v) => `${v.field}: ${v.detail}`).join('; '));
    }
    return parts.filter(Boolean).join(' ');
  }
}

function statusOf(e: unknown): number | undefined {
  return e instanceof CoderApiError && e.kind === 'http' ? e.status : undefined;
}

/** The token is missing, expired or lacks the right: retrying will not help, signing in will. */
export function isAuthError(e: unknown): boolean {
  const s = statusOf(e);
  return s === 401 || s === 403;
}

export function isNotFound(e: unknown): boolean {
  return statusOf(e) === 404;
}

/** The deployment does not offer this endpoint or method (an older or different server). */
export function isUnsupported(e: unknown): boolean {
  const s = statusOf(e);
  return s === 404 || s === 405 || s === 501;
}

/** The control plane could not be reached or answered with a server-side failure. */
export function isUnreachable(e: unknown): boolean {
  if (!(e instanceof CoderApiError)) return false;
  if (e.kind === 'network' || e.kind === 'timeout') return true;
  return e.kind === 'http' && (e.status >= 500 || e.status === 429 || e.status === 408);
}

/** Turns anything thrown into a short text for a log line, without secrets. */
export function errorText(e: unknown, secrets: readonly (string | undefined)[] = []): string {
  if (e instanceof CoderApiError) return e.describe();
  const text = e instanceof Error ? e.message : String(e);
  return redact(text, secrets);
}

/**
 * The answer of a refused WebSocket upgrade, with its `codersdk.Response` body kept: the log can
 * then say why (a 400's validations, a 409's message) instead of a bare status. The body is read
 * up to a small cap and for a bounded time; a body that is not the JSON shape still gives the
 * status line.
 */
import type { IncomingMessage } from 'node:http';
import { redact } from '../common/log';
import type { Validation } from './errors';
import { ErrorResponseSchema } from './schemas';

export interface UpgradeFailure {
  status: number;
  message?: string;
  detail?: string;
  validations?: Validation[];
}

const MAX_BODY_BYTES = 64 * 1024;

export function readUpgradeFailure(res: IncomingMessage, secrets: readonly string[], timeoutMs = 5_000): Promise<UpgradeFailure> {
  return new Promise((resolve) => {
    const status = res.statusCode ?? 0;
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const done = () => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      res.removeListener('data', onData);
      resolve(parseFailure(status, res.statusMessage, Buffer.concat(chunks).toString('utf8'), secrets));
    };
    const onData = (c: Buffer) => {
      if (size >= MAX_BODY_BYTES) return;
      chunks.push(c.subarray(0, MAX_BODY_BYTES - size));
      size += c.length;
      if (size >= MAX_BODY_BYTES) done();
    };
    // A peer that sends headers and then nothing must not hold the reconnect loop.
    const timer = setTimeout(done, timeoutMs);
    timer.unref?.();
    res.on('data', onData);
    res.once('end', done);
    res.once('close', done);
    res.once('error', done);
  });
}

export function parseFailure(status: number, statusMessage: string | undefined, body: string, secrets: readonly string[]): UpgradeFailure {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    json = undefined;
  }
  const parsed = ErrorResponseSchema.safeParse(json);
  if (!parsed.success) return { status, ...(statusMessage ? { message: redact(statusMessage, secrets) } : {}) };
  const { message, detail, validations } = parsed.data;
  const out: UpgradeFailure = { status, message: redact(message, secrets) };
  if (detail) out.detail = redact(detail, secrets);
  if (validations?.length) out.validations = validations.map((v) => ({ field: v.field, detail: redact(v.detail, secrets) }));
  return out;
}

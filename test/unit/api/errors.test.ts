import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CoderApiError, errorText, isAuthError, isNotFound, isUnreachable, isUnsupported } from '../../../src/api/errors';

const http = (status: number) => new CoderApiError({ kind: 'http', status, message: 'x' });

test('status helpers classify only http errors', () => {
  assert.equal(isAuthError(http(401)), true);
  assert.equal(isAuthError(http(403)), true);
  assert.equal(isAuthError(http(404)), false);
  assert.equal(isNotFound(http(404)), true);
  for (const s of [404, 405, 501]) assert.equal(isUnsupported(http(s)), true, String(s));
  assert.equal(isUnsupported(http(500)), false);
  assert.equal(isUnreachable(http(503)), true);
  assert.equal(isUnreachable(new CoderApiError({ kind: 'network', message: 'down' })), true);
  assert.equal(isUnreachable(new CoderApiError({ kind: 'invalid-response', message: 'bad' })), false);
  assert.equal(isAuthError(new Error('401')), false);
});

test('secrets are redacted from every text of the error', () => {
  const token = 'abcdefghij-0123456789012345678901';
  const e = new CoderApiError({
    kind: 'http',
    status: 400,
    message: `bad token ${token}`,
    detail: `detail ${token}`,
    validations: [{ field: 'q', detail: `got ${token}` }],
    request: `GET /x?coder_session_token=${token}`,
    secrets: [token],
  });
  const all = [e.message, e.detail, e.validations?.[0]?.detail, e.request, e.describe(), errorText(e), String(e.stack)].join(' ');
  assert.ok(!all.includes(token), all);
  assert.match(e.describe(), /400 bad token <redacted> \(detail <redacted>\) q: got <redacted>/);
});

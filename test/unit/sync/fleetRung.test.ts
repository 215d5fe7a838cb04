import { test } from 'node:test';
import assert from 'node:assert/strict';
import { coversList, decideFleetRung, fleetPollPeriod } from '../../../src/sync/fleetRung';

const GRACE = 30_000;

test('the push serves the default filter while open, and for a grace period while it reconnects', () => {
  assert.equal(decideFleetRung({ kind: 'open' }, 'owner:me', 0, GRACE).rung, 'push');
  const r = { kind: 'reconnecting' as const, since: 1000, reason: 'connection reset' };
  assert.deepEqual(decideFleetRung(r, 'owner:me', 1000 + GRACE - 1, GRACE), {
    rung: 'push',
    reason: 'push reconnecting (connection reset)',
  });
  assert.deepEqual(decideFleetRung(r, 'owner:me', 1000 + GRACE, GRACE), { rung: 'poll', reason: 'push reconnecting (connection reset)' });
});

test('the list poll serves before the push opens, when it is refused, without a client, and for other filters', () => {
  for (const s of [{ kind: 'off' as const }, { kind: 'waiting' as const }, { kind: 'connecting' as const }])
    assert.equal(decideFleetRung(s, 'owner:me', 0, GRACE).rung, 'poll');
  const refused = decideFleetRung(
    { kind: 'unavailable', reason: 'HTTP 409 Non-browser connections are disabled', retryAt: 0 },
    'owner:me',
    0,
    GRACE,
  );
  assert.equal(refused.rung, 'poll');
  assert.match(refused.reason, /unavailable: HTTP 409 Non-browser connections are disabled; retried at 1970-01-01T00:00:00.000Z/);
  const other = decideFleetRung({ kind: 'open' }, 'template:docker', 0, GRACE);
  assert.equal(other.rung, 'poll');
  assert.match(
    other.reason,
    /filter "template:docker" is not covered by the push \(owner:me only\); the push still feeds agent-ID changes/,
  );
});

test('coversList accepts the default filter with stray spaces and case, nothing else', () => {
  assert.equal(coversList(' owner:me '), true);
  assert.equal(coversList('OWNER:me'), true);
  assert.equal(coversList('owner:me status:running'), false);
  assert.equal(coversList('owner:alice'), false);
});

test('poll period: the safety resync while the push serves (0 = none), the poll interval otherwise', () => {
  assert.equal(fleetPollPeriod('push', 15_000, 600_000), 600_000);
  assert.equal(fleetPollPeriod('push', 15_000, 0), Number.POSITIVE_INFINITY);
  assert.equal(fleetPollPeriod('poll', 15_000, 600_000), 15_000);
});

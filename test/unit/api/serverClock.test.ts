import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ServerClock, SKEW_TOLERANCE_MS } from '../../../src/api/serverClock';

const T = Date.UTC(2026, 0, 1, 12, 0, 0);
const header = (ms: number) => new Date(ms).toUTCString();

test('within the Date header resolution (2 s) there is no skew', () => {
  const c = new ServerClock();
  c.observe(header(T), T + 900);
  c.observe(header(T + 1000), T + 2999);
  assert.equal(c.skewMs, 0);
  assert.equal(c.toLocal(T), T);
  c.observe(header(T + SKEW_TOLERANCE_MS), T + 100);
  assert.equal(c.skewMs, 0, 'one sample out of three is not the median');
});

test('a server minutes ahead or behind: the skew within a second, and server timestamps moved onto the local clock', () => {
  for (const offset of [5 * 60_000, -5 * 60_000]) {
    const c = new ServerClock();
    for (let i = 0; i < 3; i++) c.observe(header(T + offset + i * 1000), T + i * 1000 + 300);
    assert.ok(Math.abs(c.skewMs - offset) <= 1000, `${c.skewMs} vs ${offset}`);
    assert.ok(Math.abs(c.toLocal(T + offset) - T) <= 1000);
  }
});

test('absent or unreadable headers are ignored; one odd answer does not move the median', () => {
  const c = new ServerClock();
  c.observe(null, T);
  c.observe('yesterday', T);
  assert.equal(c.skewMs, 0);
  for (let i = 0; i < 4; i++) c.observe(header(T + 60_000), T);
  c.observe(header(T - 3_600_000), T); // a stale cached answer
  assert.ok(Math.abs(c.skewMs - 60_000) <= 1000);
});

test('the estimate holds steady through sub-second jitter, so every reader sees the same local times', () => {
  const c = new ServerClock();
  for (let i = 0; i < 5; i++) c.observe(header(T + 60_000), T);
  const first = c.skewMs;
  for (const jitter of [300, -400, 700, -200, 600]) c.observe(header(T + 60_000), T + jitter);
  assert.equal(c.skewMs, first);
  for (let i = 0; i < 5; i++) c.observe(header(T + 120_000), T);
  assert.ok(Math.abs(c.skewMs - 120_000) <= 1000, 'a real change is followed');
});

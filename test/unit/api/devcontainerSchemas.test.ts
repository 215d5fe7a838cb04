import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ContainersResponseSchema } from '../../../src/api/devcontainerSchemas';
import { devcontainerError, failureKindOf, watchFailureKind } from '../../../src/api/devcontainers';
import { CoderApiError } from '../../../src/api/errors';
import { safeParse } from '../../../src/api/schemas';

const dc = (over: Record<string, unknown> = {}) => ({
  id: 'dc-1',
  name: 'app',
  workspace_folder: '/src/app',
  config_path: '/src/app/.devcontainer/devcontainer.json',
  status: 'running',
  dirty: false,
  container: { id: 'c1', friendly_name: 'app_1', image: 'base', running: true, status: 'running', labels: {}, ports: [] },
  agent: { id: 'sub-1', name: 'app', directory: '/src/app' },
  subagent_id: 'sub-1',
  ...over,
});

test('the containers answer parses; unknown fields are dropped and unknown statuses kept', () => {
  const r = safeParse(ContainersResponseSchema, {
    containers: [],
    devcontainers: [dc({ status: 'hibernating', x_new: 1 })],
    warnings: ['docker is slow'],
    x_future: true,
  });
  assert.ok(r.ok);
  assert.equal(r.value.devcontainers[0]!.status, 'hibernating');
  assert.equal('x_new' in r.value.devcontainers[0]!, false);
  assert.deepEqual(r.value.warnings, ['docker is slow']);
  assert.deepEqual(r.value.devcontainers[0]!.agent, { id: 'sub-1', name: 'app', directory: '/src/app' });
});

test('optional parts may be missing or null; a bad sub-agent or container is dropped, not the answer', () => {
  const r = safeParse(ContainersResponseSchema, {
    containers: null,
    devcontainers: [
      dc({ container: undefined, agent: undefined, subagent_id: null, error: 'build failed' }),
      dc({ id: 'dc-2', agent: { id: 5 } }),
    ],
    warnings: null,
  });
  assert.ok(r.ok);
  const [a, b] = r.value.devcontainers;
  assert.equal(a!.container, undefined);
  assert.equal(a!.agent, undefined);
  assert.equal(a!.error, 'build failed');
  assert.equal(b!.agent, null);
  assert.deepEqual(r.value.warnings, []);
});

test('one malformed dev container is skipped, the others are kept', () => {
  const r = safeParse(ContainersResponseSchema, { containers: [], devcontainers: [{ name: 'no id' }, 7, dc()], warnings: [] });
  assert.ok(r.ok);
  assert.deepEqual(
    r.value.devcontainers.map((d) => d.id),
    ['dc-1'],
  );
});

test('each refusal has a kind: 404 on list/watch is an older server, on recreate an unknown id; 400 not connected; 409 transitioning', () => {
  assert.equal(failureKindOf('list', 404), 'unsupported');
  assert.equal(failureKindOf('watch', 404), 'unsupported');
  assert.equal(failureKindOf('recreate', 404), 'unknown-devcontainer');
  assert.equal(failureKindOf('list', 400), 'not-connected');
  assert.equal(failureKindOf('recreate', 400), 'not-connected');
  assert.equal(failureKindOf('recreate', 409), 'transitioning');
  assert.equal(failureKindOf('list', 408), 'agent-timeout');
  assert.equal(failureKindOf('list', 403), 'disabled', 'dev containers turned off on that agent');
  assert.equal(failureKindOf('watch', 403), 'disabled');
  assert.equal(failureKindOf('recreate', 403), 'failed', 'no permission to update the workspace');
  assert.equal(failureKindOf('list', 500), 'failed');
  assert.equal(watchFailureKind({ kind: 'http', status: 400 }), 'not-connected');
  assert.equal(watchFailureKind({ kind: 'network', message: 'x' }), 'failed');
  const e = devcontainerError(
    'recreate',
    new CoderApiError({
      kind: 'http',
      status: 409,
      message: 'Unable to recreate transitioning devcontainer secret-token',
      secrets: ['secret-token'],
    }),
  );
  assert.equal(e.kind, 'transitioning');
  assert.doesNotMatch(e.message, /secret-token/);
  assert.equal(devcontainerError('list', new CoderApiError({ kind: 'network', message: 'down' })).kind, 'failed');
});

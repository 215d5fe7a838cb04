/** Builders of wire-shaped workspaces and agents for model tests, validated by the real schemas. */
import { WorkspaceAgentSchema, WorkspaceSchema, type Workspace, type WorkspaceAgent } from '../../../src/api/schemas';

let seq = 0;
export const uuid = (): string => `00000000-0000-4000-8000-${String(++seq).padStart(12, '0')}`;

export function agent(over: Partial<WorkspaceAgent> & { name?: string } = {}): WorkspaceAgent {
  return WorkspaceAgentSchema.parse({
    id: uuid(),
    parent_id: null,
    name: 'main',
    status: 'connected',
    lifecycle_state: 'ready',
    created_at: '2026-01-01T00:00:00Z',
    first_connected_at: '2026-01-01T00:00:01Z',
    last_connected_at: '2026-01-01T00:00:02Z',
    started_at: '2026-01-01T00:00:02Z',
    ready_at: '2026-01-01T00:00:05Z',
    connection_timeout_seconds: 120,
    version: 'v2.24.0',
    operating_system: 'linux',
    architecture: 'amd64',
    health: { healthy: true },
    scripts: [],
    ...over,
  });
}

export function workspace(
  opts: {
    id?: string;
    name?: string;
    owner?: string;
    build?: number;
    transition?: string;
    job?: string;
    status?: string;
    agents?: WorkspaceAgent[];
  } = {},
): Workspace {
  const id = opts.id ?? uuid();
  return WorkspaceSchema.parse({
    id,
    name: opts.name ?? 'dev',
    owner_name: opts.owner ?? 'alice',
    template_name: 'docker',
    latest_build: {
      id: `build-${id}-${opts.build ?? 1}`,
      workspace_id: id,
      build_number: opts.build ?? 1,
      transition: opts.transition ?? 'start',
      status: opts.status ?? 'running',
      job: { id: 'job', status: opts.job ?? 'succeeded' },
      resources: [{ id: 'res', name: 'main', type: 'docker_container', agents: opts.agents ?? [agent()] }],
    },
    outdated: false,
  });
}

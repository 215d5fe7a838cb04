/**
 * Wire shapes of a parent agent's containers answer (`GET /workspaceagents/{id}/containers`, and
 * each message of `.../containers/watch`), in the same tolerant style as schemas.ts: unknown
 * fields dropped, an unknown status kept as a string, a bad container or sub-agent field turned
 * into "absent" rather than failing the whole answer. A dev container without an id or name is
 * dropped on its own; the others are kept.
 */
import * as z from 'zod';

export const DEVCONTAINER_STATUSES = ['running', 'starting', 'stopping', 'stopped', 'deleting', 'error'] as const;
export type DevcontainerStatus = (typeof DEVCONTAINER_STATUSES)[number];

/** Statuses while a recreate may not be asked for (the server answers 409). */
export const TRANSITIONING_STATUSES: readonly string[] = ['starting', 'stopping', 'deleting'];

const str = z.string().catch('');
const optStr = z.string().nullish().catch(null);

export const DevcontainerAgentSchema = z.object({ id: z.string().min(1), name: z.string(), directory: str });

export const ContainerSchema = z.object({
  id: z.string(),
  friendly_name: str,
  image: str,
  running: z.boolean().catch(false),
  status: str,
});

export const DevcontainerSchema = z.object({
  id: z.string().min(1),
  name: z.string(),
  workspace_folder: str,
  config_path: str,
  status: z.string().catch('unknown'),
  dirty: z.boolean().catch(false),
  error: optStr,
  container: ContainerSchema.nullish().catch(null),
  agent: DevcontainerAgentSchema.nullish().catch(null),
  subagent_id: optStr,
});

/** Each element parsed on its own: one bad dev container does not hide the others. */
const devcontainerList = z
  .array(z.unknown())
  .nullish()
  .catch(null)
  .transform((items) =>
    (items ?? []).flatMap((item) => {
      const r = DevcontainerSchema.safeParse(item);
      return r.success ? [r.data] : [];
    }),
  );

export const ContainersResponseSchema = z.object({
  containers: z.array(ContainerSchema.catch({ id: '', friendly_name: '', image: '', running: false, status: '' })).catch([]),
  devcontainers: devcontainerList,
  warnings: z
    .array(z.string().catch(''))
    .nullish()
    .catch(null)
    .transform((w) => (w ?? []).filter(Boolean)),
});

export type DevcontainerAgent = z.infer<typeof DevcontainerAgentSchema>;
export type Devcontainer = z.infer<typeof DevcontainerSchema>;
export type ContainersResponse = z.infer<typeof ContainersResponseSchema>;

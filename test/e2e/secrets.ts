// The secrets sweep that ends every e2e run: the session tokens a run handed to the extension
// must appear nowhere the user or another program could see them: the extension's output
// channel and the extension host's log (both files under the user-data folder), settings and
// state files, code-server's own output, notifications, dialogs and quick-input messages shown
// during the run, uncaught page errors, and the HTML of every frame (webviews included).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Text seen somewhere, and where (a file path, "notification", "frame <url>", ...). */
export interface Source {
  where: string;
  content: string | Buffer;
}

/** Tokens shorter than this would match by accident; a test that passes one is wrong. */
const MIN_SECRET_LENGTH = 8;

/** The forms a token takes when it leaks: as is, URL-encoded, and base64 (Basic auth, blobs). */
export function secretForms(secret: string): string[] {
  const forms = new Set([secret, encodeURIComponent(secret), Buffer.from(secret).toString('base64').replace(/=+$/, '')]);
  return [...forms];
}

/** Every regular file under `dir` (none if it does not exist), depth first, sorted. */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    const st = statSync(p, { throwIfNoEntry: false });
    if (st?.isDirectory()) out.push(...filesUnder(p));
    else if (st?.isFile()) out.push(p);
  }
  return out;
}

/** The files under `dirs` as sources (binary files such as SQLite state databases included). */
export function fileSources(dirs: string[]): Source[] {
  return dirs.flatMap(filesUnder).flatMap((p) => {
    try {
      return [{ where: p, content: readFileSync(p) }];
    } catch {
      return []; // removed while the run was ending (a lock file, a rotated log)
    }
  });
}

export interface SweepResult {
  /** `where` of each source that holds a secret (never the secret itself). */
  hits: string[];
  sources: number;
  bytes: number;
}

export function sweep(sources: Source[], secrets: readonly string[]): SweepResult {
  for (const s of secrets) {
    if (s.length < MIN_SECRET_LENGTH) throw new Error(`a secret of ${s.length} characters is too short to sweep for`);
  }
  const needles = secrets.flatMap(secretForms).map((f) => Buffer.from(f));
  const hits: string[] = [];
  let bytes = 0;
  for (const source of sources) {
    const buf = typeof source.content === 'string' ? Buffer.from(source.content) : source.content;
    bytes += buf.length;
    if (needles.some((n) => buf.includes(n))) hits.push(source.where);
  }
  return { hits, sources: sources.length, bytes };
}

/**
 * The tokens a run hands to the extension through its environment: `CODER_SESSION_TOKEN` and
 * the `session` file of a `coder` CLI config folder.
 */
export function secretsFromEnv(env: Record<string, string | undefined> = {}): string[] {
  const out: string[] = [];
  if (env['CODER_SESSION_TOKEN']) out.push(env['CODER_SESSION_TOKEN']);
  const configDir = env['CODER_CONFIG_DIR'];
  if (configDir && existsSync(join(configDir, 'session'))) {
    const session = readFileSync(join(configDir, 'session'), 'utf8').trim();
    if (session) out.push(session);
  }
  return out;
}

/**
 * `coderStatus.headerCommand`: a command whose output lines `Name=Value` become extra HTTP
 * headers, run and parsed the way `coder --header-command` does it (through the platform's
 * shell, with CODER_URL set). Header values are often credentials: no error or log line here
 * ever contains one, nor the command's stderr.
 */
import { execFile } from 'node:child_process';

/** RFC 7230 `token`: the characters a header field name may have. */
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Control characters (but tab) and anything above Latin-1 cannot travel in a field value. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const BAD_VALUE = /[\u0000-\u0008\u000A-\u001F\u007F\u0100-\uFFFF]/;

export class HeaderCommandError extends Error {
  override readonly name = 'HeaderCommandError';
}

export function isHeaderName(name: string): boolean {
  return HEADER_NAME.test(name);
}

/**
 * Parses a header command's output: one `Name=Value` per line, split at the first `=`, blank
 * lines ignored, repeated names joined with ", " (HTTP's rule for repeated fields). Errors name
 * the line number only: a malformed line may well be a bare secret.
 */
export function parseHeaderOutput(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  const seen = new Map<string, string>(); // lower-case name -> spelling used in `out`
  stdout.split(/\r?\n/).forEach((line, i) => {
    if (line.trim() === '') return;
    const where = `header command output, line ${i + 1}`;
    const eq = line.indexOf('=');
    if (eq < 0) throw new HeaderCommandError(`${where}: expected Name=Value.`);
    const name = line.slice(0, eq);
    // Optional whitespace around a field value is spaces and tabs only (RFC 7230 OWS).
    const value = line.slice(eq + 1).replace(/^[ \t]+|[ \t]+$/g, '');
    if (!isHeaderName(name)) {
      throw new HeaderCommandError(
        `${where}: the header name is not a valid HTTP token (letters, digits and !#$%&'*+-.^_\`|~ only, no spaces).`,
      );
    }
    if (BAD_VALUE.test(value)) throw new HeaderCommandError(`${where}: the value has characters an HTTP header cannot carry.`);
    const key = seen.get(name.toLowerCase());
    if (key === undefined) {
      seen.set(name.toLowerCase(), name);
      out[name] = value;
    } else {
      out[key] = `${out[key] ?? ''}, ${value}`;
    }
  });
  return out;
}

export interface ExecResult {
  stdout: string;
  /** Exit code; null when killed by a signal. */
  code: number | null;
  timedOut: boolean;
}

/** Runs a program (no shell of its own; the caller passes the shell). Injected in tests. */
export type ExecFn = (
  file: string,
  args: string[],
  opts: { env: Record<string, string | undefined>; timeoutMs: number },
) => Promise<ExecResult>;

export const execWithTimeout: ExecFn = (file, args, opts) =>
  new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { env: opts.env, timeout: opts.timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1024 * 1024, windowsHide: true },
      (err, stdout) => {
        if (!err) return resolve({ stdout, code: 0, timedOut: false });
        const e = err as NodeJS.ErrnoException & { code?: number | string; killed?: boolean; signal?: string | null };
        if (typeof e.code === 'string') return reject(new HeaderCommandError(`the header command could not be started (${e.code}).`));
        resolve({ stdout, code: typeof e.code === 'number' ? e.code : null, timedOut: e.killed === true && e.signal === 'SIGKILL' });
      },
    );
  });

export interface HeaderCommandOptions {
  command: string;
  /** The deployment URL, given to the command as CODER_URL (as the coder CLI does). */
  url: string;
  env: Record<string, string | undefined>;
  platform: string;
  exec?: ExecFn;
  timeoutMs?: number;
}

/** Runs the header command through the platform's shell, like `coder --header-command`. */
export async function runHeaderCommand(o: HeaderCommandOptions): Promise<Record<string, string>> {
  const timeoutMs = o.timeoutMs ?? 10_000;
  const [shell, flag] = o.platform === 'win32' ? ['cmd.exe', '/c'] : ['sh', '-c'];
  const res = await (o.exec ?? execWithTimeout)(shell, [flag, o.command], { env: { ...o.env, CODER_URL: o.url }, timeoutMs });
  if (res.timedOut) throw new HeaderCommandError(`the header command did not finish within ${timeoutMs / 1000} s.`);
  if (res.code !== 0) {
    // Its stderr is not shown: it may echo the very credentials the command fetches.
    throw new HeaderCommandError(
      `the header command failed (${res.code === null ? 'killed' : `exit code ${res.code}`}); run it in a terminal to see why.`,
    );
  }
  return parseHeaderOutput(res.stdout);
}

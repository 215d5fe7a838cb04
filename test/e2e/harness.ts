// The e2e fixture: the packaged extension in code-server, driven by headless Chromium.
//
//   test('...', { timeout: 240_000 }, (t) =>
//     withE2E(t, { settings: {...}, env: {...} }, async ({ wb, server, step }) => {
//       await step('the view shows', async () => { await wb.openView(); ... });
//     }));
//
// Whatever happens (a failed assertion, a timeout, an exception while starting), the browser
// and code-server are stopped and the temp folders removed; on a failure a screenshot and the
// logs are saved under test-results/ and their paths are printed as test diagnostics.
//
// A run that passes ends with one more step, the secrets sweep (see secrets.ts): the session
// tokens it handed over (`secrets`, `CODER_SESSION_TOKEN`, the CLI login's session file) must be
// in no file of its user-data, HOME and workspace folders, in no text the page showed, and in
// no frame's HTML.
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { type CodeServer, type CodeServerOptions, startCodeServer } from './codeServer';
import { fileSources, secretsFromEnv, type Source, sweep } from './secrets';
import { openWorkbench, resultsDir, safeFileName, type Workbench } from './workbench';

export { type CodeServer, type CodeServerOptions, defaultVsix, extensionId, projectRoot, startCodeServer } from './codeServer';
export { openWorkbench, type QuickInputState, type StatusBarItem, type TreeItem, Workbench, type WorkbenchOptions } from './workbench';

export interface E2E {
  server: CodeServer;
  wb: Workbench;
  /**
   * A subtest that shares this code-server and browser; on failure it saves a screenshot
   * named after itself. Steps run one after the other.
   */
  step(name: string, fn: () => Promise<void>, options?: { timeout?: number }): Promise<void>;
}

export interface E2EOptions extends CodeServerOptions {
  /** Tokens the run hands over in other ways (typed into an input box, ...), for the sweep. */
  secrets?: string[];
}

/** Everything of the run the user or another program could see, as sweep sources. */
async function visibleToUser(server: CodeServer, wb: Workbench): Promise<{ sources: Source[]; counts: string }> {
  const files = fileSources([server.userDataDir, server.home, server.folder]).filter((f) => !server.seededFiles.includes(f.where));
  const frames: Source[] = [];
  for (const f of wb.page.frames()) {
    const html = await f.content().catch(() => undefined); // a frame may go away meanwhile
    if (html !== undefined) frames.push({ where: `frame ${f.url()}`, content: html });
  }
  const shown = wb.shown.map((s) => ({ where: `shown in ${s.where}`, content: s.content }));
  const errors = wb.pageErrors.map((e) => ({ where: 'page error', content: e }));
  const output = { where: 'code-server output', content: server.serverOutput() };
  return {
    sources: [...files, ...frames, ...shown, ...errors, output],
    counts: `${files.length} files, ${frames.length} frames at the end, ${shown.filter((s) => s.where.includes('frame')).length} frame states and ${shown.filter((s) => !s.where.includes('frame')).length} texts shown during the run`,
  };
}

/** Saves a screenshot and a copy of every log, and tells the test report where they are. */
async function saveEvidence(t: TestContext, name: string, server: CodeServer | undefined, wb: Workbench | undefined): Promise<void> {
  const base = safeFileName(name);
  if (wb) {
    try {
      const png = await wb.screenshot(`${base}-failure`);
      t.diagnostic(`screenshot: ${png}`);
    } catch (err) {
      t.diagnostic(`no screenshot: ${String(err)}`);
    }
    for (const e of wb.pageErrors) t.diagnostic(`page error: ${e}`);
  }
  if (server) {
    const dir = join(resultsDir, `${base}-logs`);
    mkdirSync(dir, { recursive: true });
    if (existsSync(server.logsDir)) cpSync(server.logsDir, join(dir, 'logs'), { recursive: true });
    writeFileSync(join(dir, 'code-server.out'), server.serverOutput());
    t.diagnostic(`logs: ${dir}`);
    // One diagnostic per line: TAP escapes newlines inside one.
    const tail = server
      .extensionLog()
      .split('\n')
      .filter((l) => l.trim() !== '')
      .slice(-20);
    for (const line of tail) t.diagnostic(`extension log: ${line}`);
  }
}

export async function withE2E(t: TestContext, options: E2EOptions, fn: (e2e: E2E) => Promise<void>): Promise<void> {
  let server: CodeServer | undefined;
  let wb: Workbench | undefined;
  let cleaned: Promise<void> | undefined;
  let evidence: Promise<void> | undefined;
  const keepEvidence = (): Promise<void> => (evidence ??= saveEvidence(t, t.name, server, wb));
  const cleanup = (): Promise<void> =>
    (cleaned ??= (async () => {
      await wb?.close();
      await server?.stop();
    })());
  // Runs also when the test times out while fn is still pending: then the evidence is taken
  // here, before the browser goes away under the pending fn.
  t.after(async () => {
    if (t.signal.aborted) await keepEvidence();
    await cleanup();
  });

  try {
    server = await startCodeServer(options);
    wb = await openWorkbench(server.url, { logsDir: server.logsDir, signal: t.signal });
    const started = { server, wb };
    const step = async (name: string, stepFn: () => Promise<void>, stepOptions: { timeout?: number } = {}): Promise<void> => {
      await t.test(name, { timeout: stepOptions.timeout ?? 60_000 }, async (st) => {
        try {
          await stepFn();
        } catch (err) {
          await saveEvidence(st, `${t.name}-${name}`, started.server, started.wb);
          throw err;
        }
      });
    };
    await fn({ ...started, step });
    const secrets = [...(options.secrets ?? []), ...secretsFromEnv(options.env)];
    if (secrets.length > 0) {
      await step('secrets sweep: no session token in logs, settings, state, notifications or pages', async () => {
        const { sources, counts } = await visibleToUser(started.server, started.wb);
        const result = sweep(sources, secrets);
        t.diagnostic(
          `secrets sweep: ${secrets.length} token(s) over ${counts}, ${(result.bytes / 2 ** 20).toFixed(1)} MB: ${result.hits.length} hit(s)`,
        );
        if (result.hits.length > 0) throw new Error(`a session token is in: ${result.hits.join(', ')}`);
      });
    }
  } catch (err) {
    if (!t.signal.aborted) await keepEvidence();
    throw err;
  } finally {
    await cleanup();
  }
}

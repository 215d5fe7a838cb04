/**
 * `npm run bench`: every figure of this extension next to the polling baseline, as a table and,
 * last, one JSON line. `--quick` runs short variants (a smoke run, not figures to publish).
 */
import { execFileSync } from 'node:child_process';
import { eventToModel, idChangeToDecision } from './latency';
import { fleetScale, reconnectStorm } from './scale';
import { idleRequests } from './idle';
import { inVsCode } from './codeServerScenario';
import { print, type Figure } from './report';

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  // `--phase=storm,fleet_2000` runs only the phases whose names start with one of these.
  const only = process.argv
    .find((a) => a.startsWith('--phase='))
    ?.slice('--phase='.length)
    .split(',');
  const figures: Figure[] = [];
  const phase = async (name: string, run: () => Promise<Figure[]>) => {
    if (only && !only.some((p) => name.startsWith(p))) return;
    const t0 = Date.now();
    process.stderr.write(`bench: ${name}...\n`);
    try {
      figures.push(...(await run()));
    } catch (e) {
      process.stderr.write(`bench: ${name} failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      figures.push({ name: `${name}_failed`, value: 1, target: '<= 0' });
    }
    process.stderr.write(`bench: ${name} took ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  };
  await phase('event_to_model', () => eventToModel(quick ? 200 : 1000, quick ? 4 : 12));
  await phase('id_change', () => idChangeToDecision(quick ? 20 : 100));
  for (const n of [5, 20]) await phase(`idle_${n}ws`, () => idleRequests(n, quick ? 20_000 : 60_000));
  for (const size of [500, 1000]) await phase(`fleet_${size}`, () => fleetScale(size, quick ? 5 : 20, 1000, false));
  await phase('fleet_2000', () => fleetScale(2000, quick ? 20 : 60, 1000, true));
  // 500 clients even in a quick run: the per-second peak of a smaller storm is mostly noise.
  await phase('storm', () => reconnectStorm(500));
  await phase('vscode', async () => {
    execFileSync(process.execPath, ['scripts/package.mjs'], { stdio: 'ignore' });
    execFileSync(process.execPath, ['test/e2e/scripts/setup.mjs'], { stdio: 'ignore' });
    return inVsCode(quick ? 10 : 50);
  });
  print(figures);
  process.exit(0);
}

void main();

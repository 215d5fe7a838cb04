/** Percentiles, targets and the output format of `npm run bench`: a table, then one JSON line. */
import * as os from 'node:os';

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export interface Figure {
  name: string;
  value: number;
  /** e.g. "< 50" or ">= 10"; undefined when the figure has no target. */
  target?: string;
}

export function met(f: Figure): boolean | undefined {
  if (!f.target || Number.isNaN(f.value)) return undefined;
  const m = /^(<|<=|>|>=)\s*([\d.]+)$/.exec(f.target);
  if (!m) return undefined;
  const t = Number(m[2]);
  switch (m[1]) {
    case '<':
      return f.value < t;
    case '<=':
      return f.value <= t;
    case '>':
      return f.value > t;
    default:
      return f.value >= t;
  }
}

export function machine(): Record<string, string | number> {
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    ram_gb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    platform: `${os.platform()} ${os.release()}`,
  };
}

export function print(figures: Figure[]): void {
  const rows = figures.map((f) => {
    const ok = met(f);
    return [
      f.name,
      Number.isInteger(f.value) ? String(f.value) : f.value.toFixed(2),
      f.target ?? '',
      ok === undefined ? '' : ok ? 'met' : 'MISSED',
    ];
  });
  const head = ['figure', 'value', 'target', ''];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of rows) console.log(line(r));
  const missed = figures.filter((f) => met(f) === false).map((f) => f.name);
  console.log(missed.length ? `Targets missed: ${missed.join(', ')}` : 'All targets met.');
  const json: Record<string, unknown> = { machine: machine() };
  for (const f of figures) json[f.name] = Number.isFinite(f.value) ? Number(f.value.toFixed(3)) : null;
  json['targets_missed'] = missed;
  console.log(JSON.stringify(json));
}

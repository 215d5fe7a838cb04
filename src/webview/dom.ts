/**
 * DOM helpers of the details page. Everything that comes from the host is set with
 * textContent or as an attribute value, never parsed as HTML: workspace names, agent names and
 * log lines are chosen by whoever writes a template or runs a script, so they are untrusted.
 */
import type { DetailsStrings } from '../protocol/detailsPanel';

type Child = Node | string | null | undefined | false;

export interface ElOptions {
  className?: string;
  text?: string;
  attrs?: Record<string, string | undefined>;
}

/** Creates an element; string children become text nodes. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, opts?: ElOptions, ...children: Child[]): HTMLElementTagNameMap[K];
export function el(tag: string, opts?: ElOptions, ...children: Child[]): HTMLElement;
export function el(tag: string, opts: ElOptions = {}, ...children: Child[]): HTMLElement {
  const node = document.createElement(tag);
  if (opts.className) node.className = opts.className;
  if (opts.text !== undefined) node.textContent = opts.text;
  for (const [name, value] of Object.entries(opts.attrs ?? {})) {
    if (value !== undefined) node.setAttribute(name, value);
  }
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    node.append(typeof c === 'string' ? document.createTextNode(c) : c);
  }
  return node;
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: 'medium' });

/** "Nov 24, 2026, 7:15:22 PM", or "-" when unknown. */
export function formatTime(ms: number | null): string {
  return ms === null ? '-' : dateTime.format(new Date(ms));
}

export function formatClock(ms: number): string {
  return timeOnly.format(new Date(ms));
}

/** A host-provided text with its `{0}`, `{1}`... filled in (as text: the result is never parsed as HTML). */
export function fill(template: string, ...values: Array<string | number>): string {
  return template.replace(/\{(\d+)\}/g, (match, i: string) => {
    const v = values[Number(i)];
    return v === undefined ? match : String(v);
  });
}

const tenths = new Intl.NumberFormat(undefined, { minimumFractionDigits: 1, maximumFractionDigits: 1 });

/** "4.2 s", "1m 12s", "3h 5m" (in the host's words): the gap between two timeline entries. */
export function formatDuration(ms: number, t: DetailsStrings): string {
  if (ms < 0) return '';
  if (ms < 10_000) return fill(t.seconds, tenths.format(ms / 1000));
  const s = Math.round(ms / 1000);
  if (s < 3600) return fill(t.minutesSeconds, Math.floor(s / 60), s % 60);
  return fill(t.hoursMinutes, Math.floor(s / 3600), Math.floor((s % 3600) / 60));
}

/** Only web links are made clickable; anything else (javascript:, command:, data:) stays text. */
export function safeHttpUrl(value: string | null): string | undefined {
  if (!value) return undefined;
  try {
    const u = new URL(value);
    return u.protocol === 'https:' || u.protocol === 'http:' ? u.toString() : undefined;
  } catch {
    return undefined;
  }
}

/** A two-column table built from toolkit data-grid elements (keyboard navigable, themed). */
export function grid(label: string, headers: string[], rows: string[][]): HTMLElement {
  const g = el('vscode-data-grid', { attrs: { 'aria-label': label, 'generate-header': 'none' } });
  const head = el('vscode-data-grid-row', { attrs: { 'row-type': 'header' } });
  headers.forEach((h, i) => {
    head.append(el('vscode-data-grid-cell', { text: h, attrs: { 'cell-type': 'columnheader', 'grid-column': String(i + 1) } }));
  });
  g.append(head);
  for (const row of rows) {
    const r = el('vscode-data-grid-row');
    row.forEach((cell, i) => {
      r.append(el('vscode-data-grid-cell', { text: cell, attrs: { 'grid-column': String(i + 1) } }));
    });
    g.append(r);
  }
  return g;
}

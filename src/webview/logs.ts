/**
 * The startup-log pane: appends lines as text, keeps a bounded number of them in the DOM, and
 * follows the end only while the reader is at the end (scrolling up to read stops following).
 */
import type { DetailsStrings, LogLine, LogStatus } from '../protocol/detailsPanel';
import { el, formatClock } from './dom';

const MAX_DOM_LINES = 5000;

const STATUS_TEXT: Record<LogStatus, keyof DetailsStrings> = {
  following: 'logsFollowing',
  ended: 'logsEnded',
  unavailable: 'logsUnavailable',
  error: 'logsError',
};

export class LogPane {
  private readonly lines: HTMLElement;
  private readonly status: HTMLElement;
  private readonly count: HTMLElement;
  private seen = new Set<number>();

  constructor(
    readonly root: HTMLElement,
    private readonly t: DetailsStrings,
  ) {
    this.status = el('p', { className: 'log-status', attrs: { id: 'log-status', role: 'status' } });
    this.count = el('span', { className: 'log-count' });
    this.lines = el('div', {
      className: 'log-lines',
      attrs: { id: 'log-lines', role: 'log', 'aria-label': t.logsLabel, tabindex: '0' },
    });
    root.replaceChildren(el('h2', { text: `${t.logsHeading} ` }, this.count), this.status, this.lines);
    this.setStatus('following', null);
  }

  setStatus(status: LogStatus, message: string | null): void {
    const text = this.t[STATUS_TEXT[status]];
    this.status.textContent = message ? `${text} ${message}` : text;
    this.status.className = `log-status log-${status}`;
  }

  append(lines: readonly LogLine[], reset: boolean): void {
    if (reset) {
      this.lines.replaceChildren();
      this.seen.clear();
    }
    const atEnd = this.lines.scrollHeight - this.lines.scrollTop - this.lines.clientHeight < 8;
    const frag = document.createDocumentFragment();
    for (const line of lines) {
      // A resent backlog after a reconnect overlaps what is shown: log ids are unique per agent.
      if (this.seen.has(line.id)) continue;
      this.seen.add(line.id);
      frag.append(
        el(
          'div',
          { className: `log-line level-${/^[a-z]+$/.test(line.level) ? line.level : 'unknown'}` },
          el('span', { className: 'log-time', text: line.at === null ? '' : formatClock(line.at) }),
          el('span', { className: 'log-output', text: line.output }),
        ),
      );
    }
    this.lines.append(frag);
    while (this.lines.childElementCount > MAX_DOM_LINES) this.lines.firstElementChild?.remove();
    if (this.seen.size > MAX_DOM_LINES * 2) this.seen = new Set([...this.seen].slice(-MAX_DOM_LINES));
    this.count.textContent = this.lines.childElementCount ? `(${this.lines.childElementCount})` : '';
    if (atEnd || reset) this.lines.scrollTop = this.lines.scrollHeight;
  }
}

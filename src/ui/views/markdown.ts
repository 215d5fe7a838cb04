/**
 * Markdown for tooltips built from server data. Every name and message is escaped (a workspace
 * may be named `**x**` or `<img onerror=...>`), links are only http(s), and the result is never
 * trusted: no command links, no HTML, no theme icons from data.
 */
import * as vscode from 'vscode';

/** Backslash-escapes every ASCII punctuation character that markdown could act on. */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>&~"'$:=]/g, '\\$&').replace(/\r?\n/g, ' ');
}

/** An http(s) URL fit for a markdown link target, or undefined. */
export function safeLink(url: string | null | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    return u.href.replace(/[()<> ]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  } catch {
    return undefined;
  }
}

/** Lines of `label: value` pairs; values are plain text. */
export class Tooltip {
  private readonly parts: string[] = [];

  title(text: string, icon?: string): this {
    this.parts.push(`${icon ? `$(${icon}) ` : ''}**${escapeMarkdown(text)}**`);
    return this;
  }

  line(text: string): this {
    if (text) this.parts.push(escapeMarkdown(text));
    return this;
  }

  field(label: string, value: string | null | undefined): this {
    if (value) this.parts.push(`${escapeMarkdown(label)}: \`${value.replace(/`/g, "'").replace(/\r?\n/g, ' ')}\``);
    return this;
  }

  link(text: string, url: string | null | undefined): this {
    const href = safeLink(url);
    if (href) this.parts.push(`[${escapeMarkdown(text)}](${href})`);
    return this;
  }

  /** A horizontal rule between the row's facts and the diagnosis. */
  rule(): this {
    this.parts.push('---');
    return this;
  }

  build(): vscode.MarkdownString {
    // Only the icons written above are markdown of ours; data never gets a `$(` through escapeMarkdown.
    const md = new vscode.MarkdownString(this.parts.join('\n\n'), true);
    md.isTrusted = false;
    md.supportHtml = false;
    return md;
  }
}

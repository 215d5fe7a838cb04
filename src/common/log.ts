/**
 * The logging surface the core uses. vscode.LogOutputChannel satisfies it structurally, so
 * api/, sync/ and model/ log without importing 'vscode'.
 */
export interface Logger {
  trace(message: string): void;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const silentLogger: Logger = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** Replaces every occurrence of the given secrets, so a token can never reach a log line. */
export function redact(text: string, secrets: readonly (string | undefined)[]): string {
  let out = text;
  for (const s of secrets) {
    if (s && s.length >= 4) out = out.split(s).join('<redacted>');
  }
  return out.replace(/(coder_session_token=)[^&\s"']+/gi, '$1<redacted>');
}

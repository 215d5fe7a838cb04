/** Something that owns a resource and releases it. Structurally compatible with vscode.Disposable. */
export interface Disposable {
  dispose(): void;
}

/** Owns cleanups and runs them in reverse order, once; later pushes run at once. */
export class DisposableStore implements Disposable {
  private items: Disposable[] = [];
  private disposed = false;

  add<T extends Disposable>(d: T): T {
    if (this.disposed) d.dispose();
    else this.items.push(d);
    return d;
  }

  addFn(fn: () => void): void {
    this.add({ dispose: fn });
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const items = this.items.reverse();
    this.items = [];
    for (const d of items) {
      try {
        d.dispose();
      } catch {
        // A failing cleanup must not stop the others.
      }
    }
  }
}

/** A minimal typed event emitter without VS Code (the core is used headless too). */
export class Emitter<T> implements Disposable {
  private listeners = new Set<(e: T) => void>();

  readonly event = (listener: (e: T) => void): Disposable => {
    this.listeners.add(listener);
    return { dispose: () => this.listeners.delete(listener) };
  };

  fire(e: T): void {
    for (const l of [...this.listeners]) l(e);
  }

  dispose(): void {
    this.listeners.clear();
  }
}

// The main thread's side of protocol.ts: requests to the worker as promises, with their
// progress events delivered to a callback, and cancellation by request.
import type { FromWorker, Request, WorkerEvent } from './protocol.js';

export class WorkerClient {
  private next = 1;
  private pending = new Map<number, { ok: (v: unknown) => void; fail: (e: Error) => void; onEvent?: (e: WorkerEvent) => void }>();

  constructor(
    private readonly worker: Worker,
    /** Events not tied to a request (the worker's GPU device). */
    onWorkerEvent: (e: WorkerEvent) => void,
  ) {
    worker.onmessage = (m: MessageEvent<FromWorker>) => {
      const msg = m.data;
      if ('event' in msg) {
        if (msg.id === null) onWorkerEvent(msg.event);
        else this.pending.get(msg.id)?.onEvent?.(msg.event);
        return;
      }
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (msg.ok) p?.ok(msg.result);
      else p?.fail(new Error(msg.error));
    };
    worker.onerror = (e) => {
      const err = new Error(`the worker failed: ${e.message}`);
      for (const p of this.pending.values()) p.fail(err);
      this.pending.clear();
      onWorkerEvent({ kind: 'engine', adapter: null, error: err.message });
    };
  }

  /** Sends a request; `id` is known at once (for cancel) through `started`. */
  call<T>(request: Request, onEvent?: (e: WorkerEvent) => void, started?: (id: number) => void): Promise<T> {
    const id = this.next++;
    started?.(id);
    return new Promise<T>((ok, fail) => {
      this.pending.set(id, { ok: ok as (v: unknown) => void, fail, onEvent });
      this.worker.postMessage({ id, request });
    });
  }

  cancel(id: number): void {
    void this.call({ op: 'cancel', target: id });
  }
}

import type { EventEmitter } from 'node:events';

/**
 * What the watchdog (delivery/watchdog.ts) needs to know of a replaceable BullMQ worker —
 * the mail worker and the webhook worker alike: jobs started since it last asked, jobs
 * running now. A worker replaced by the watchdog is retired: what it still finishes in
 * the background no longer counts.
 */
export class WorkerActivity {
  #started = 0;
  #running = 0;
  readonly #retired = new WeakSet<EventEmitter>();

  /** Count the jobs of `worker` (a BullMQ Worker: its `active`/`completed`/`failed` events). */
  track(worker: EventEmitter): void {
    worker.on('active', () => {
      if (this.#retired.has(worker)) return;
      this.#started += 1;
      this.#running += 1;
    });
    const finished = () => {
      if (!this.#retired.has(worker)) this.#running = Math.max(0, this.#running - 1);
    };
    worker.on('completed', finished);
    worker.on('failed', finished);
  }

  /** `worker` is being replaced: its jobs stop counting and the new one starts at zero. */
  retire(worker: EventEmitter): void {
    this.#retired.add(worker);
    this.#running = 0;
  }

  /** Jobs started since the previous call. */
  takeStarted(): number {
    const started = this.#started;
    this.#started = 0;
    return started;
  }

  running(): number {
    return this.#running;
  }
}

import { BENCH_FROM, BENCH_TO, messageTemplate } from './message.js';
import { SmtpSession } from './smtp-session.js';

export interface SmtpLoadOptions {
  port: number;
  user: string;
  password: string;
  connections: number;
  messageBytes: number;
  /** `persistent`: one session per connection, messages back to back; `per-connection`:
   * connect, STARTTLS, AUTH, one message, QUIT — again and again. */
  mode: 'persistent' | 'per-connection';
  durationMs: number;
  /** Stop early after this many accepted messages in total. */
  maxMessages?: number;
  /** Prefix for message tokens (unique subjects across runs). */
  tag: string;
}

export interface LoadResult {
  accepted: number;
  failed: number;
  /** First few distinct failure messages with their counts. */
  errors: Record<string, number>;
  /** Accept latency per message, ms (SMTP: final dot → 250; HTTP: request → response). */
  latencies: number[];
  /** SMTP: ready for a new transaction → its 250, ms (HTTP: same as latencies). */
  transactionLatencies: number[];
  /** SMTP per-connection mode: connect → 250 of the one message, ms. */
  sessionLatencies: number[];
  /** Wall clock (ms since the epoch) when the timed load began and ended. */
  startedAt: number;
  endedAt: number;
}

const now = () => performance.timeOrigin + performance.now();
/** After a failure, wait a little: a refusing server must not turn the client into a spin loop. */
const pause = () => new Promise((resolve) => setTimeout(resolve, 20));

export function recordError(errors: Record<string, number>, error: unknown): void {
  const key = (error as Error).message.slice(0, 120);
  if (errors[key] !== undefined || Object.keys(errors).length < 10) {
    errors[key] = (errors[key] ?? 0) + 1;
  }
}

/** Drive `connections` concurrent SMTP clients against 127.0.0.1:`port`. */
export async function runSmtpLoad(options: SmtpLoadOptions): Promise<LoadResult> {
  const template = messageTemplate(options.messageBytes);
  const result: LoadResult = {
    accepted: 0,
    failed: 0,
    errors: {},
    latencies: [],
    transactionLatencies: [],
    sessionLatencies: [],
    startedAt: 0,
    endedAt: 0,
  };
  const limit = options.maxMessages ?? Number.POSITIVE_INFINITY;
  let issued = 0;
  const session = { port: options.port, user: options.user, password: options.password };
  // Persistent sessions are opened before the clock starts: their handshakes are not
  // part of the steady state being measured.
  const opened =
    options.mode === 'persistent'
      ? await Promise.all(
          Array.from({ length: options.connections }, () => SmtpSession.open(session)),
        )
      : [];
  result.startedAt = now();
  const deadline = result.startedAt + options.durationMs;
  const more = () => now() < deadline && issued < limit;

  async function persistentWorker(index: number): Promise<void> {
    let current: SmtpSession | undefined = opened[index];
    let n = 0;
    let pipelined = false;
    while (pipelined || more()) {
      issued++;
      try {
        current ??= await SmtpSession.open(session);
        const token = `${options.tag}-${index}-${n++}`;
        pipelined = more();
        const message = template.smtp(token);
        const timing = await current.send(BENCH_FROM, BENCH_TO, message, pipelined);
        result.latencies.push(timing.accept);
        result.transactionLatencies.push(timing.transaction);
        result.accepted++;
      } catch (error) {
        result.failed++;
        recordError(result.errors, error);
        current?.destroy();
        current = undefined;
        pipelined = false;
        await pause();
      }
    }
    await current?.quit();
  }

  async function perConnectionWorker(index: number): Promise<void> {
    let n = 0;
    while (more()) {
      issued++;
      const began = performance.now();
      let current: SmtpSession | undefined;
      try {
        current = await SmtpSession.open(session);
        const token = `${options.tag}-${index}-${n++}`;
        const timing = await current.send(BENCH_FROM, BENCH_TO, template.smtp(token));
        result.latencies.push(timing.accept);
        result.transactionLatencies.push(timing.transaction);
        result.sessionLatencies.push(performance.now() - began);
        result.accepted++;
        await current.quit();
      } catch (error) {
        result.failed++;
        recordError(result.errors, error);
        current?.destroy();
        await pause();
      }
    }
  }

  const worker = options.mode === 'persistent' ? persistentWorker : perConnectionWorker;
  await Promise.all(Array.from({ length: options.connections }, (_, index) => worker(index)));
  result.endedAt = now();
  return result;
}

/**
 * Helper process: the counting sink both systems relay to (lib/counting-sink.ts,
 * cleartext smtp-server on 127.0.0.1). Messages are counted per run tag (the Subject is
 * `bench <tag>-<connection>-<n>`), so stragglers of a warm-up or an earlier cell never
 * count for the next one. `waitFor` answers with the wall-clock time at which the tag
 * reached `count` messages, for end-to-end rates.
 */
import { startCountingSink } from '../lib/counting-sink.js';
import { helperOptions, serveHelper } from '../lib/helper-side.js';
import { tagOfSubject } from '../load/message.js';

const now = () => performance.timeOrigin + performance.now();
helperOptions<Record<string, never>>();
const sink = await startCountingSink();
/** Per tag: the arrival time of its 1st, 2nd, ... message. */
const arrivals = new Map<string, number[]>();
let seen = 0;

function collect(): void {
  const { subjects } = sink;
  if (subjects.length === seen) return;
  const at = now();
  for (; seen < subjects.length; seen++) {
    const tag = tagOfSubject(subjects[seen] ?? '');
    const list = arrivals.get(tag) ?? [];
    list.push(at);
    arrivals.set(tag, list);
  }
}
// Polling every 2 ms is cheaper than wrapping the sink's handler and exact enough for
// end-to-end times of seconds.
const timer = setInterval(collect, 2);

async function waitFor(payload: unknown) {
  const { tag, count, timeoutMs } = payload as { tag: string; count: number; timeoutMs: number };
  const deadline = Date.now() + timeoutMs;
  const have = () => arrivals.get(tag)?.length ?? 0;
  while (have() < count && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  collect();
  const list = arrivals.get(tag) ?? [];
  return { count: list.length, reachedAt: list[Math.min(count, list.length) - 1] ?? now() };
}

function duplicates(payload: unknown): number {
  const { tag } = payload as { tag: string };
  let count = 0;
  for (const [subject, times] of sink.counts) {
    if (times > 1 && tagOfSubject(subject) === tag) count += times - 1;
  }
  return count;
}

serveHelper(
  { port: sink.port, url: sink.url },
  {
    waitFor,
    duplicates,
    /** Messages of `tag` delivered in each `windowMs` since `since` (epoch ms). */
    timeline: (payload) => {
      const { tag, since, windowMs } = payload as { tag: string; since: number; windowMs: number };
      collect();
      const counts: number[] = [];
      for (const at of arrivals.get(tag) ?? []) {
        const slot = Math.floor((at - since) / windowMs);
        if (slot >= 0) counts[slot] = (counts[slot] ?? 0) + 1;
      }
      return Array.from(counts, (count) => count ?? 0);
    },
    count: (payload) => {
      collect();
      return arrivals.get((payload as { tag: string }).tag)?.length ?? 0;
    },
  },
  async () => {
    clearInterval(timer);
    await sink.close();
  },
);

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startWatchdog, type WatchdogProbe } from '../../src/delivery/watchdog.js';
import { waitUntil } from '../support/wait-until.js';

function probe(state: { waiting: number; started: number; running: number }): WatchdogProbe {
  return {
    waitingJobs: async () => state.waiting,
    takeStarted: () => {
      const started = state.started;
      state.started = 0;
      return started;
    },
    running: () => state.running,
  };
}

describe('watchdog decision', () => {
  it('recreates after two looks with jobs waiting, free slots and nothing started', async () => {
    const reasons: string[] = [];
    const watchdog = startWatchdog(probe({ waiting: 3, started: 0, running: 0 }), {
      intervalMs: 10,
      concurrency: 4,
      recreate: async (reason) => {
        reasons.push(reason);
      },
    });
    await waitUntil(() => reasons.length > 0, 2000, 'a recreation', 5);
    watchdog.stop();
    assert.match(reasons[0] ?? '', /3 job\(s\) waiting, none taken for 2 checks/);
  });

  it('never recreates a worker that is full, that takes jobs, or when nothing waits', async () => {
    const cases = [
      { waiting: 5, started: 0, running: 4 }, // busy: every slot taken
      { waiting: 0, started: 0, running: 0 }, // idle: nothing to take (or paused)
    ];
    for (const state of cases) {
      let recreated = 0;
      let looks = 0;
      const counting = probe(state);
      const watchdog = startWatchdog(
        {
          ...counting,
          waitingJobs: async () => {
            looks++;
            return state.waiting;
          },
        },
        { intervalMs: 5, concurrency: 4, recreate: async () => void recreated++ },
      );
      await waitUntil(() => looks >= 10, 2000, 'ten looks', 5);
      watchdog.stop();
      assert.equal(recreated, 0, JSON.stringify(state));
    }
    // Taking a job between looks keeps resetting the count.
    const state = { waiting: 5, started: 0, running: 1 };
    let recreated = 0;
    let looks = 0;
    const watchdog = startWatchdog(
      {
        ...probe(state),
        waitingJobs: async () => {
          looks++;
          state.started = 1;
          return state.waiting;
        },
      },
      { intervalMs: 5, concurrency: 4, recreate: async () => void recreated++ },
    );
    await waitUntil(() => looks >= 10, 2000, 'ten looks', 5);
    watchdog.stop();
    assert.equal(recreated, 0);
  });
});

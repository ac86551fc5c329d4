import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { Retention } from '../../src/queue/retention.js';
import {
  CaptureStore,
  captureDir,
  deleteCaptured,
  indexCapturedFolder,
} from '../../src/upstream/capture.js';
import { createUpstreams } from '../../src/upstream/from-url.js';
import type { DeliveryHarness } from '../support/delivery-harness.js';
import { useDeliveryFixture } from '../support/delivery-harness.js';
import { waitUntil } from '../support/wait-until.js';

/**
 * Issue 11: the capture upstream's mailbox page costs one page of an index, whatever the
 * history — it used to read every captured file on each view. Retention takes the index
 * entry with the message, and the files after.
 */
describe('the captured mailbox: an index, not the folder', () => {
  const fixture = useDeliveryFixture();

  async function captureWorker(h: DeliveryHarness): Promise<void> {
    await h.startWorker(
      createUpstreams([{ kind: 'capture', label: 'capture' }], {
        dataDir: h.dataDir,
        captureIndex: h.services.captureIndex,
      }),
    );
  }

  async function deliverThree(h: DeliveryHarness): Promise<string[]> {
    const ids: string[] = [];
    for (const to of ['one@example.net', 'two@example.net', 'three@example.net']) {
      const id = await h.submit([to]);
      await h.waitForStatus(id, ['delivered']);
      ids.push(id);
    }
    return ids;
  }

  it('lists a page of the index newest first, and reads no file outside it', async () => {
    const h = await fixture.harness();
    await captureWorker(h);
    const [first, second, third] = await deliverThree(h);
    const store = new CaptureStore(h.dataDir, h.services.captureIndex);
    // A kept message the index does not name: a page that read the folder would show it.
    const stray = 'zzzzzzzzzzzzzzzzzzzzz';
    await writeFile(
      path.join(captureDir(h.dataDir), `${stray}.json`),
      JSON.stringify({ id: stray, envelope: { from: 'a@b.c', to: [] }, capturedAt: 'x', size: 1 }),
    );
    const page = await store.list(2, 0);
    assert.equal(page.total, 3);
    assert.deepEqual(
      page.items.map((item) => item.id),
      [third, second],
    );
    assert.deepEqual(
      (await store.list(2, 2)).items.map((item) => item.id),
      [first],
    );
    // Files gone under the index (retention between the reads): left out, no error.
    await deleteCaptured(h.dataDir, [second as string]);
    assert.deepEqual(
      (await store.list(25, 0)).items.map((item) => item.id),
      [third, first],
    );
    await rm(path.join(captureDir(h.dataDir), `${stray}.json`));
  });

  it('indexes mail captured before the index once, at start', async () => {
    const h = await fixture.harness();
    await captureWorker(h);
    const ids = await deliverThree(h);
    const { redis, keys } = h.services;
    await redis.del(keys.capturedIndex()); // as a folder from before the index
    assert.equal(await indexCapturedFolder(h.dataDir, h.services.captureIndex), 3);
    assert.equal(await indexCapturedFolder(h.dataDir, h.services.captureIndex), 0, 'only once');
    const store = new CaptureStore(h.dataDir, h.services.captureIndex);
    assert.deepEqual(new Set((await store.list(25, 0)).items.map((item) => item.id)), new Set(ids));
  });

  it('retention takes the index entry with the message, then the files', async () => {
    const h = await fixture.harness();
    await captureWorker(h);
    const [id] = await deliverThree(h);
    const { redis, keys } = h.services;
    const retention = new Retention(redis, keys, {
      retentionMs: 500,
      onDeleted: (ids) => deleteCaptured(h.dataDir, ids),
    });
    await waitUntil(
      async () => {
        await retention.runOnce();
        return (await redis.zcard(keys.capturedIndex())) === 0;
      },
      10_000,
      'retention to empty the captured index',
    );
    assert.equal(existsSync(path.join(captureDir(h.dataDir), `${id}.eml`)), false);
    assert.equal(existsSync(path.join(captureDir(h.dataDir), `${id}.json`)), false);
    assert.deepEqual(await new CaptureStore(h.dataDir, h.services.captureIndex).list(25), {
      total: 0,
      items: [],
    });
  });
});

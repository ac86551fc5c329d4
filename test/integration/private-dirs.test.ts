import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { startRedisServer } from '../../src/runtime/embedded-redis.js';
import { captureDir, createCaptureUpstream } from '../../src/upstream/capture.js';

const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;

describe('folders that hold mail or the queue are private to the relay user', () => {
  const base = mkdtempSync(path.join(os.tmpdir(), 'pw-private-'));

  after(() => {
    rmSync(base, { recursive: true, force: true });
  });

  it('the captured-mail folder is 0700, even when it existed with wider permissions', async () => {
    const dataDir = path.join(base, 'capture');
    mkdirSync(captureDir(dataDir), { recursive: true, mode: 0o755 });
    chmodSync(captureDir(dataDir), 0o755);
    const upstream = createCaptureUpstream(dataDir);
    await upstream.send({
      id: 'aaaaaaaaaaaaaaaaaaaaa',
      envelope: { from: 'a@example.com', to: ['b@example.net'] },
      raw: Buffer.from('Subject: x\r\n\r\nbody\r\n'),
    });
    assert.equal(statSync(captureDir(dataDir)).mode & 0o777, 0o700);
  });

  it('the embedded Redis dir is tightened to 0700 before Redis starts in it', async () => {
    const dir = path.join(base, 'redis-wide');
    mkdirSync(dir, { mode: 0o755 });
    chmodSync(dir, 0o755);
    const server = await startRedisServer({ dir, appendfsync: 'always' });
    try {
      assert.equal(statSync(dir).mode & 0o777, 0o700);
    } finally {
      await server.stop();
    }
  });

  it('refuses a Redis dir or socket that belongs to another user (nothing is adopted)', {
    skip: isRoot ? false : 'needs root to give a file to another user',
  }, async () => {
    const foreignDir = path.join(base, 'redis-foreign');
    mkdirSync(foreignDir, { mode: 0o700 });
    chownSync(foreignDir, NOBODY, NOBODY);
    await assert.rejects(startRedisServer({ dir: foreignDir }), {
      code: 'unsafe_redis_dir',
      message: /belongs to another user/,
    });
    const ownDir = path.join(base, 'redis-foreign-socket');
    mkdirSync(ownDir, { mode: 0o700 });
    const socket = path.join(ownDir, 'redis.sock');
    writeFileSync(socket, '');
    chownSync(socket, NOBODY, NOBODY);
    await assert.rejects(startRedisServer({ dir: ownDir }), {
      code: 'unsafe_redis_dir',
      message: /socket .* belongs to another user/,
    });
  });
});

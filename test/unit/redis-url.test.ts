import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { loadConfig } from '../../src/config/load.js';
import { redisOptionsFromUrl } from '../../src/redis/connections.js';
import { onlineReplicas } from '../../src/redis/durability.js';

describe('REDIS_URL=redis+sentinel://…', () => {
  it('becomes ioredis Sentinel options: every sentinel, the primary name, its password', () => {
    assert.deepEqual(
      redisOptionsFromUrl(
        'redis+sentinel://:s3cret@10.0.0.1:26379,[::1]:26380,sentinel-c:26381/mymaster',
      ),
      {
        sentinels: [
          { host: '10.0.0.1', port: 26379 },
          { host: '::1', port: 26380 },
          { host: 'sentinel-c', port: 26381 },
        ],
        name: 'mymaster',
        password: 's3cret',
      },
    );
    assert.deepEqual(redisOptionsFromUrl('redis+sentinel://127.0.0.1:26379/pw').sentinels, [
      { host: '127.0.0.1', port: 26379 },
    ]);
  });

  it('is accepted by the configuration; a malformed one is refused naming the variable', () => {
    const url = 'redis+sentinel://127.0.0.1:26379,127.0.0.1:26380/pw';
    assert.equal(loadConfig({ REDIS_URL: url }).redisUrl, url);
    for (const bad of [
      'redis+sentinel://127.0.0.1/pw',
      'redis+sentinel://127.0.0.1:1',
      'sentinel://h:1/x',
    ]) {
      assert.throws(() => loadConfig({ REDIS_URL: bad }), /REDIS_URL/);
    }
  });

  it('POSTWARDEN_DURABILITY=replicated with POSTWARDEN_MIN_REPLICAS', () => {
    const config = loadConfig({
      POSTWARDEN_DURABILITY: 'replicated',
      POSTWARDEN_MIN_REPLICAS: '2',
    });
    assert.equal(config.durability, 'replicated');
    assert.equal(config.minReplicas, 2);
    assert.throws(() => loadConfig({ POSTWARDEN_MIN_REPLICAS: '0' }), /POSTWARDEN_MIN_REPLICAS/);
  });
});

describe('onlineReplicas (INFO replication)', () => {
  it('counts only the replicas in sync', () => {
    const info = [
      '# Replication',
      'role:master',
      'connected_slaves:3',
      'slave0:ip=127.0.0.1,port=7001,state=online,offset=100,lag=0',
      'slave1:ip=127.0.0.1,port=7002,state=wait_bgsave,offset=0,lag=0',
      'slave2:ip=127.0.0.1,port=7003,state=online,offset=99,lag=1',
      'master_repl_offset:100',
    ].join('\r\n');
    assert.equal(onlineReplicas(info), 2);
    assert.equal(onlineReplicas('# Replication\r\nrole:master\r\nconnected_slaves:0\r\n'), 0);
  });
});

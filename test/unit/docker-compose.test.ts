import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';

// No Docker engine runs here: the compose file, the Redis config and the image are
// checked by reading them.
const compose = parse(readFileSync('docker-compose.yml', 'utf8')) as {
  services: Record<string, Record<string, unknown>>;
  volumes: Record<string, unknown>;
};
const redisConf = readFileSync('deploy/redis.conf', 'utf8');
const dockerfile = readFileSync('deploy/Dockerfile', 'utf8');

function directive(name: string): string | undefined {
  return new RegExp(`^${name}\\s+(\\S+)`, 'm').exec(redisConf)?.[1];
}

describe('docker-compose.yml and deploy files', () => {
  it('runs Redis with AOF appendfsync always, noeviction, a volume, and no published port', () => {
    const redis = compose.services.redis;
    assert.ok(redis);
    assert.equal(directive('appendonly'), 'yes');
    assert.equal(directive('appendfsync'), 'always');
    assert.equal(directive('maxmemory-policy'), 'noeviction');
    assert.ok((redis.volumes as string[]).some((volume) => volume.startsWith('redis-data:')));
    assert.ok((redis.volumes as string[]).some((volume) => volume.includes('deploy/redis.conf')));
    assert.equal(redis.ports, undefined);
    assert.ok('redis-data' in compose.volumes);
  });

  it('builds Postwarden from deploy/Dockerfile on Node 24 and runs node directly', () => {
    const build = compose.services.postwarden?.build as { dockerfile: string };
    assert.equal(build.dockerfile, 'deploy/Dockerfile');
    assert.match(dockerfile, /^FROM node:24/m);
    assert.match(dockerfile, /CMD \["node", "dist\/main\.js", "start"\]/);
    assert.doesNotMatch(dockerfile, /^CMD .*npm/m);
  });

  it('points Postwarden at the compose Redis with fsync durability', () => {
    const env = compose.services.postwarden?.environment as Record<string, string>;
    assert.equal(env.REDIS_URL, 'redis://redis:6379');
    assert.equal(env.POSTWARDEN_DURABILITY, 'fsync');
  });

  it('listens on all interfaces inside the container and keeps its data dir on a volume', () => {
    const postwarden = compose.services.postwarden as Record<string, unknown>;
    const env = postwarden.environment as Record<string, string>;
    assert.equal(env.POSTWARDEN_HTTP_HOST, '0.0.0.0');
    assert.equal(env.POSTWARDEN_SMTP_HOST, '0.0.0.0');
    assert.match(dockerfile, /POSTWARDEN_DATA_DIR=\/data/);
    assert.ok((postwarden.volumes as string[]).includes('postwarden-data:/data'));
    assert.ok('postwarden-data' in compose.volumes);
  });

  it('runs the systemd unit as node dist/main.js start, signalling node only', () => {
    const unit = readFileSync('deploy/postwarden.service', 'utf8');
    assert.match(unit, /^ExecStart=\S*node \S*dist\/main\.js start$/m);
    assert.doesNotMatch(unit, /^ExecStart=.*npm/m);
    assert.match(unit, /^KillMode=mixed$/m);
    assert.match(unit, /^Environment=POSTWARDEN_DATA_DIR=/m);
  });

  it('binds every published port explicitly, HTTP on loopback only', () => {
    const ports = compose.services.postwarden?.ports as string[];
    assert.ok(ports.length > 0);
    for (const port of ports) assert.match(port, /^\d+\.\d+\.\d+\.\d+:\d+:\d+$/, port);
    assert.ok(ports.includes('127.0.0.1:8080:8080'));
    assert.ok(ports.some((port) => port.endsWith(':587:2587')));
    assert.ok(ports.some((port) => port.endsWith(':465:2465')));
  });
});

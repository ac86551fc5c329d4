import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { sendSmtp } from '../support/load-clients.js';
import { RawSmtpClient, replyCode } from '../support/raw-smtp-client.js';
import { freeRelayPorts, relayEnv } from '../support/relay-env.js';
import { type RelayHarness, startRelayHarness } from '../support/relay-harness.js';
import { spawnRelay, waitForReady } from '../support/relay-process.js';

/** POST an empty JSON body from a chosen loopback address; resolves with status and error code. */
function postFrom(
  localAddress: string,
  port: number,
  secret: string,
): Promise<{ status: number; code: string }> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        localAddress,
        method: 'POST',
        path: '/v1/messages',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${secret}` },
      },
      (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => {
          body += chunk.toString();
        });
        response.on('end', () => {
          const parsed = JSON.parse(body) as { error?: { code?: string } };
          resolve({ status: response.statusCode ?? 0, code: parsed.error?.code ?? '' });
        });
      },
    );
    request.on('error', reject);
    request.end('{}');
  });
}

const ATTACKER_IPS = Array.from({ length: 50 }, (_, index) => `127.0.1.${index + 10}`);
const GUESSES_PER_IP = 20;

describe('security: AUTH brute force from many addresses', { timeout: 180_000 }, () => {
  let harness: RelayHarness;
  let secret: string;

  before(async () => {
    harness = await startRelayHarness();
    ({ secret } = await harness.createCredential({ name: 'shop', allowFrom: ['*@example.com'] }));
  });

  after(async () => {
    await harness?.stop();
  });

  /** One attacker: sequential guesses, reconnecting whenever the relay hangs up. */
  async function attack(ip: string): Promise<{ evaluated: number; refusedAtConnect: number }> {
    let evaluated = 0;
    let refusedAtConnect = 0;
    let guesses = 0;
    while (guesses < GUESSES_PER_IP) {
      const client = await RawSmtpClient.connect(harness.ports.smtp, { localAddress: ip });
      if (!client.greeting.startsWith('220')) {
        refusedAtConnect++;
        guesses++;
        client.close();
        continue;
      }
      await client.command('EHLO brute.invalid');
      while (guesses < GUESSES_PER_IP && !client.isClosed) {
        const code = replyCode(await client.authPlain('shop', `wrong-${guesses}`));
        guesses++;
        if (code === 535 || code === 421) evaluated++;
        if (code === 235) throw new Error('a wrong secret was accepted');
        if (code === 421 || code === 0) break;
      }
      client.close();
    }
    return { evaluated, refusedAtConnect };
  }

  it('bans each address after at most 10 evaluated guesses while a real client keeps sending', async () => {
    let legitimateSent = 0;
    let legitimateFailed = 0;
    let attacking = true;
    const legitimate = (async () => {
      while (attacking) {
        try {
          const reply = await sendSmtp(
            harness.ports.smtp,
            { name: 'shop', secret },
            {
              from: 'orders@example.com',
              to: ['customer@example.net'],
              subject: `legit ${legitimateSent}`,
              text: 'hello',
            },
          );
          if (reply.startsWith('250')) legitimateSent++;
        } catch {
          legitimateFailed++;
        }
      }
    })();
    const results = await Promise.all(ATTACKER_IPS.map((ip) => attack(ip)));
    attacking = false;
    await legitimate;

    const total = results.reduce(
      (sum, result) => sum + result.evaluated + result.refusedAtConnect,
      0,
    );
    const worst = Math.max(...results.map((result) => result.evaluated));
    console.log(
      `# brute force: ${ATTACKER_IPS.length} IPs, ${total} AUTH attempts, max evaluated per IP ${worst}, refused at connect ${results.reduce((s, r) => s + r.refusedAtConnect, 0)}, legitimate messages sent meanwhile ${legitimateSent} (failed ${legitimateFailed})`,
    );
    assert.equal(total, ATTACKER_IPS.length * GUESSES_PER_IP);
    assert.ok(worst <= 10, `an address got ${worst} guesses evaluated`);
    assert.ok(
      results.every((result) => result.refusedAtConnect > 0),
      'every attacker ended banned',
    );
    assert.ok(legitimateSent > 0);
    assert.equal(legitimateFailed, 0);
  });

  it('shares the bans with a second intake process on the same Redis', async () => {
    const ports = { ...(await freeRelayPorts()), smtps: 0 };
    const second = spawnRelay(['start', '--role', 'intake'], relayEnv({ ...harness.site, ports }));
    try {
      await waitForReady(ports.http);
      const client = await RawSmtpClient.connect(ports.smtp, { localAddress: ATTACKER_IPS[0] });
      client.close();
      assert.match(client.greeting, /^(554|421) /);
      const banned = await postFrom(ATTACKER_IPS[0] as string, ports.http, secret);
      assert.equal(banned.status, 403);
      assert.equal(banned.code, 'banned');
      // The real client's address is not banned: it gets through to validation.
      const unbanned = await postFrom('127.0.0.1', ports.http, secret);
      assert.equal(unbanned.status, 400);
    } finally {
      await second.kill('SIGTERM');
    }
  });
});

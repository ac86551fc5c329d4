import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { type InProcessRelay, startInProcessRelay } from '../support/in-process-relay.js';
import { RawSmtpClient } from '../support/raw-smtp-client.js';

const ADMIN_PASSWORD = 'parallel-guesses-admin-pw';
const GUESSES = 24;

/** A login form ready to post: its cookie and token, fetched before the guesses go out. */
async function loginForm(baseUrl: string): Promise<{ cookie: string; token: string }> {
  const response = await fetch(`${baseUrl}/admin/login`);
  const cookie = (response.headers.getSetCookie()[0] ?? '').split(';')[0] ?? '';
  const token = /name="_login" value="([^"]*)"/.exec(await response.text())?.[1] ?? '';
  return { cookie, token };
}

/** postwarden_auth_failures_total{protocol}: every failure counted, i.e. every wrong secret checked. */
async function failuresCounted(baseUrl: string, protocol: string): Promise<number> {
  const text = await (await fetch(`${baseUrl}/metrics`)).text();
  const line = new RegExp(
    `^postwarden_auth_failures_total\\{protocol="${protocol}"\\} (\\d+)`,
    'm',
  );
  return Number(line.exec(text)?.[1] ?? 0);
}

function tally(statuses: Array<number | string>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const status of statuses) counts[status] = (counts[status] ?? 0) + 1;
  return counts;
}

/**
 * Guesses in flight together count too (CONTRACT §Abuse guard): 24 wrong secrets and the
 * right one sent at once from one address get at most ten checks before the ban and
 * none after it — on every protocol. Before, every guess was checked and the right one
 * got in after the ban.
 */
describe('parallel guesses do not beat the ban', () => {
  let relay: InProcessRelay;
  let smtpPort: number;
  let secret: string;
  const clients: RawSmtpClient[] = [];

  before(async () => {
    relay = await startInProcessRelay(
      { POSTWARDEN_ADMIN_PASSWORD: ADMIN_PASSWORD },
      { role: 'intake', keyPrefix: 'parallel', smtp: { hostname: 'relay.test' } },
    );
    smtpPort = relay.started.smtp?.submissionPort ?? 0;
    secret = (
      await relay.relay.services.credentials.create({ name: 'alice', allowFrom: ['*@a.test'] })
    ).secret;
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.close();
    await relay.relay.services.abuseGuard.unban('127.0.0.1');
  });

  after(async () => {
    await relay.close();
  });

  it('admin login: at most ten passwords checked, then banned; the right one after it is refused', async () => {
    const forms = await Promise.all(
      Array.from({ length: GUESSES + 1 }, () => loginForm(relay.baseUrl)),
    );
    const statuses = await Promise.all(
      forms.map(async ({ cookie, token }, i) => {
        const password = i === GUESSES ? ADMIN_PASSWORD : `wrong-password-${i}`;
        const response = await fetch(`${relay.baseUrl}/admin/login`, {
          method: 'POST',
          redirect: 'manual',
          headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ _login: token, password }).toString(),
        });
        await response.arrayBuffer();
        return response.status;
      }),
    );
    const counts = tally(statuses);
    const checked = (counts[401] ?? 0) + (counts[303] ?? 0);
    assert.ok(checked <= 10, `checked ${checked}: ${JSON.stringify(counts)}`);
    assert.equal(
      (counts[403] ?? 0) + (counts[429] ?? 0),
      GUESSES + 1 - checked,
      JSON.stringify(counts),
    );
    if (!counts[303])
      assert.equal(await relay.relay.services.abuseGuard.isBanned('127.0.0.1'), true);
    const late = await loginForm(relay.baseUrl);
    const after = await fetch(`${relay.baseUrl}/admin/login`, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: late.cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ _login: late.token, password: ADMIN_PASSWORD }).toString(),
    });
    if (!counts[303]) assert.equal(after.status, 403, 'banned: the right password is refused');
  });

  it('HTTP bearer: at most ten tokens checked, then banned', async () => {
    const tokens = Array.from({ length: GUESSES }, (_, i) => `pw_wrong${i}`).concat(secret);
    const statuses = await Promise.all(
      tokens.map(async (token) => {
        const response = await fetch(`${relay.baseUrl}/v1/messages/m-none`, {
          headers: { authorization: `Bearer ${token}` },
        });
        await response.arrayBuffer();
        return response.status;
      }),
    );
    const counts = tally(statuses);
    const checked = (counts[401] ?? 0) + (counts[404] ?? 0);
    assert.ok(checked <= 10, `checked ${checked}: ${JSON.stringify(counts)}`);
    assert.equal(counts[401] ?? 0, Math.min(10, counts[401] ?? 0));
    if (!counts[404])
      assert.equal(await relay.relay.services.abuseGuard.isBanned('127.0.0.1'), true);
  });

  it('SMTP AUTH on parallel connections: at most ten secrets checked, then banned', async () => {
    for (let i = 0; i <= GUESSES; i++) {
      const client = await RawSmtpClient.connect(smtpPort);
      clients.push(client);
      await client.command('EHLO client.test');
    }
    const failuresBefore = await failuresCounted(relay.baseUrl, 'smtp');
    const replies = await Promise.all(
      clients.map((client, i) =>
        client.authPlain('alice', i === GUESSES ? secret : `pw_wrong${i}`),
      ),
    );
    const counts = tally(replies.map((reply) => reply.slice(0, 3)));
    const wrongChecked = (await failuresCounted(relay.baseUrl, 'smtp')) - failuresBefore;
    const checked = wrongChecked + (counts['235'] ?? 0);
    assert.ok(checked <= 10, `checked ${checked}: ${JSON.stringify(counts)}`);
    assert.equal(
      (counts['535'] ?? 0) + (counts['421'] ?? 0) + (counts['454'] ?? 0),
      GUESSES + 1 - (counts['235'] ?? 0),
      JSON.stringify(counts),
    );
  });

  it('a malformed AUTH exchange counts as a failure, and the third closes the connection', async () => {
    const { abuseGuard } = relay.relay.services;
    const client = await RawSmtpClient.connect(smtpPort);
    clients.push(client);
    await client.command('EHLO client.test');
    const noNuls = Buffer.from('alice-without-separators').toString('base64');
    assert.match(await client.command(`AUTH PLAIN ${noNuls}`), /^501 /);
    assert.match(await client.command(`AUTH PLAIN ${noNuls}`), /^501 /);
    assert.match(await client.command(`AUTH PLAIN ${noNuls}`), /^421 4\.7\.0 /);
    await client.closed();
    // Counted in the background: poll the counter, no fixed wait.
    const deadline = Date.now() + 5000;
    while ((await abuseGuard.failureCount('127.0.0.1')) < 3 && Date.now() < deadline) {
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(await abuseGuard.failureCount('127.0.0.1'), 3);
  });
});

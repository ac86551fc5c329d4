import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { sendHttp, sendSmtp } from '../support/load-clients.js';
import { RawSmtpClient } from '../support/raw-smtp-client.js';
import { type RelayHarness, startRelayHarness } from '../support/relay-harness.js';

const ATTACKERS = ['127.0.3.1', '127.0.3.2', '127.0.3.3', '127.0.3.4', '127.0.3.5'];
const PER_ATTACKER = 50;

/** Open a socket from `localAddress` and trickle `text` one byte per `everyMs`. */
function trickle(port: number, localAddress: string, text: string, everyMs: number): net.Socket {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress });
  socket.on('error', () => {});
  let index = 0;
  const timer = setInterval(() => {
    if (socket.destroyed) return clearInterval(timer);
    socket.write(text[index % text.length] as string);
    index++;
  }, everyMs);
  socket.on('close', () => clearInterval(timer));
  return socket;
}

describe('security: slowloris on SMTP and HTTP', { timeout: 120_000 }, () => {
  let harness: RelayHarness;
  let secret: string;
  const sockets: net.Socket[] = [];

  before(async () => {
    harness = await startRelayHarness();
    ({ secret } = await harness.createCredential({ name: 'shop', allowFrom: ['*@example.com'] }));
  });

  after(async () => {
    for (const socket of sockets) socket.destroy();
    await harness?.stop();
  });

  it('keeps serving a real client while many connections trickle bytes', async () => {
    for (const ip of ATTACKERS) {
      for (let n = 0; n < PER_ATTACKER; n++) {
        sockets.push(trickle(harness.ports.smtp, ip, 'EHLO slow.invalid\r\n', 500));
        sockets.push(trickle(harness.ports.http, ip, 'GET /healthz HTTP/1.1\r\nX-Slow: ', 500));
      }
    }
    // Let every trickler connect and start talking.
    await new Promise((resolve) => setTimeout(resolve, 1500));

    // One address cannot take more than its share of SMTP slots.
    const client = await RawSmtpClient.connect(harness.ports.smtp, { localAddress: ATTACKERS[0] });
    client.close();
    assert.match(client.greeting, /^421 4\.7\.0 /);

    // Meanwhile a legitimate client is served on both protocols, promptly.
    const started = Date.now();
    const smtpReply = await sendSmtp(
      harness.ports.smtp,
      { name: 'shop', secret },
      {
        from: 'orders@example.com',
        to: ['customer@example.net'],
        subject: 'during slowloris',
        text: 'hello',
      },
    );
    assert.match(smtpReply, /^250 2\.0\.0 Ok: queued as/);
    const http = await sendHttp(
      harness.ports.http,
      { name: 'shop', secret },
      {
        from: 'orders@example.com',
        to: 'customer@example.net',
        subject: 'during slowloris (http)',
        text: 'hello',
      },
    );
    assert.equal(http.status, 202);
    const elapsed = Date.now() - started;
    console.log(
      `# slowloris: ${sockets.length} trickling sockets from ${ATTACKERS.length} addresses; legitimate SMTP+HTTP served in ${elapsed} ms`,
    );
    assert.ok(elapsed < 5000, `took ${elapsed} ms`);
  });
});

import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** One POST the receiver got. */
export interface ReceivedWebhook {
  headers: Record<string, string>;
  body: string;
  /** performance.now() when it arrived (backoff gaps). */
  at: number;
  /** The status the receiver answered. */
  status: number;
}

export interface WebhookReceiver {
  url: string;
  port: number;
  received: ReceivedWebhook[];
  /**
   * The answer to the n-th request for one webhook-id (1-based); 200 unless set. 0 = never
   * answer (a hanging receiver: the sender's timeout must end it).
   */
  respond: (webhookId: string, attemptNo: number) => number;
  /** `Location` sent with a 3xx answer. */
  redirectTo: string;
  /** Parsed bodies (type, data) of what arrived. */
  events(): { type: string; data: Record<string, unknown>; webhookId: string }[];
  /** Stop listening (the port is kept for a later start). */
  stop(): Promise<void>;
  /** Listen again on the same port. */
  start(): Promise<void>;
  close(): Promise<void>;
}

/** A real HTTP webhook receiver on 127.0.0.1 (port 0 the first time, the same port after). */
export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const perId = new Map<string, number>();
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const headers = Object.fromEntries(
        Object.entries(request.headers).map(([name, value]) => [name, String(value)]),
      );
      const id = headers['webhook-id'] ?? '';
      const n = (perId.get(id) ?? 0) + 1;
      perId.set(id, n);
      const status = receiver.respond(id, n);
      received.push({
        headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: performance.now(),
        status,
      });
      if (status === 0) return; // hang: closed by the sender's timeout or by stop()
      const location = status >= 300 && status < 400 ? { location: receiver.redirectTo } : {};
      response.writeHead(status, { 'content-type': 'text/plain', ...location }).end('ok');
    });
  });
  let port = 0;
  const listen = () =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        port = (server.address() as AddressInfo).port;
        resolve();
      });
    });
  await listen();
  const receiver: WebhookReceiver = {
    get url() {
      return `http://127.0.0.1:${port}/hook`;
    },
    get port() {
      return port;
    },
    received,
    respond: () => 200,
    redirectTo: '/',
    events: () =>
      received.map((entry) => {
        const parsed = JSON.parse(entry.body) as { type: string; data: Record<string, unknown> };
        return { ...parsed, webhookId: entry.headers['webhook-id'] ?? '' };
      }),
    stop: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
    start: listen,
    async close() {
      if (server.listening) await receiver.stop();
    },
  };
  return receiver;
}

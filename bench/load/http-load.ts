import { Agent, request } from 'node:http';
import { messageTemplate } from './message.js';
import { type LoadResult, recordError } from './smtp-load.js';

export interface HttpLoadOptions {
  port: number;
  path: string;
  /** Bearer token (the credential's secret). */
  token: string;
  concurrency: number;
  messageBytes: number;
  durationMs: number;
  maxMessages?: number;
  tag: string;
  /** The status that counts as accepted (default 202; the Resend dialect answers 200). */
  okStatus?: number;
  /**
   * Another request than the API's JSON (the lead form bench): its headers, its body per
   * token and the status that counts as accepted. Default: POST /v1/messages JSON, 202.
   */
  custom?: {
    headers: Record<string, string>;
    body: (token: string) => string;
    okStatus: number;
  };
}

const now = () => performance.timeOrigin + performance.now();

function post(
  agent: Agent,
  options: HttpLoadOptions,
  body: string,
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: '127.0.0.1',
        port: options.port,
        path: options.path,
        method: 'POST',
        headers: {
          ...(options.custom?.headers ?? {
            authorization: `Bearer ${options.token}`,
            'content-type': 'application/json',
          }),
          'content-length': Buffer.byteLength(body),
        },
        timeout: 30_000,
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => {
          text += chunk;
        });
        response.on('end', () => resolve({ status: response.statusCode ?? 0, text }));
        response.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * `concurrency` keep-alive clients POSTing the JSON message back to back; 202 counts as
 * accepted, anything else as failed (with its status and first bytes in `errors`).
 */
export async function runHttpLoad(options: HttpLoadOptions): Promise<LoadResult> {
  const template = messageTemplate(options.messageBytes);
  const agent = new Agent({ keepAlive: true, maxSockets: options.concurrency });
  const result: LoadResult = {
    accepted: 0,
    failed: 0,
    errors: {},
    latencies: [],
    transactionLatencies: [],
    sessionLatencies: [],
    startedAt: now(),
    endedAt: 0,
  };
  const deadline = result.startedAt + options.durationMs;
  const limit = options.maxMessages ?? Number.POSITIVE_INFINITY;
  let issued = 0;
  async function worker(index: number): Promise<void> {
    let n = 0;
    while (now() < deadline && issued < limit) {
      issued++;
      const token = `${options.tag}-${index}-${n++}`;
      const body = options.custom ? options.custom.body(token) : template.json(token);
      const began = performance.now();
      try {
        const response = await post(agent, options, body);
        if (response.status !== (options.custom?.okStatus ?? options.okStatus ?? 202))
          throw new Error(`${response.status} ${response.text}`);
        result.latencies.push(performance.now() - began);
        result.accepted++;
      } catch (error) {
        result.failed++;
        recordError(result.errors, error);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
  }
  await Promise.all(Array.from({ length: options.concurrency }, (_, index) => worker(index)));
  result.endedAt = now();
  agent.destroy();
  return result;
}

import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { CheckedTarget } from '../security/webhook-target.js';

/** A receiver must answer within this (CONTRACT §Webhooks: 10 s), or the try failed. */
export const WEBHOOK_TIMEOUT_MS = 10_000;
/** Bytes of a receiver's answer read at most (it is only logged as a status code). */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * Standard Webhooks v1 headers for `body`, signed with every secret in `secrets` (the
 * current one first; after a rotate, also the previous one), signatures space-separated.
 * Signing goes through the maintained `standardwebhooks` package, not a hand-rolled HMAC.
 */
export function signedHeaders(
  secrets: readonly string[],
  webhookId: string,
  at: Date,
  body: string,
): Record<string, string> {
  return {
    'content-type': 'application/json',
    'user-agent': 'Postwarden-Webhooks/1',
    'webhook-id': webhookId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': secrets
      .map((secret) => new Webhook(secret).sign(webhookId, at, body))
      .join(' '),
  };
}

export interface SendResult {
  statusCode?: number | undefined;
  error?: string | undefined;
  latencyMs: number;
}

/**
 * POST `body` to the checked target, connecting to the address the SSRF check approved
 * (never resolving the name again, so DNS rebinding cannot swap it); TLS still checks the
 * certificate against the host name. Redirects are not followed: a 3xx is just an answer
 * that is not 2xx. Never rejects: a timeout or a refused connection is `error`.
 */
export function postWebhook(
  target: CheckedTarget,
  headers: Record<string, string>,
  body: string,
  timeoutMs = WEBHOOK_TIMEOUT_MS,
): Promise<SendResult> {
  const started = performance.now();
  const latency = () => Math.round(performance.now() - started);
  const pinned: LookupFunction = (_host, options, callback) => {
    if ((options as { all?: boolean }).all) {
      (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [
        { address: target.address, family: target.family },
      ]);
    } else {
      callback(null, target.address, target.family);
    }
  };
  const transport = target.url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (result: Omit<SendResult, 'latencyMs'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ ...result, latencyMs: latency() });
    };
    const request = transport.request(
      target.url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        lookup: pinned,
        agent: false,
      },
      (response) => {
        let read = 0;
        response.on('data', (chunk: Buffer) => {
          read += chunk.length;
          if (read > MAX_ANSWER_BYTES) response.destroy();
        });
        response.on('error', () => {});
        response.on('close', () => finish({ statusCode: response.statusCode }));
        response.on('end', () => finish({ statusCode: response.statusCode }));
      },
    );
    const timer = setTimeout(() => {
      finish({ error: `timeout after ${timeoutMs} ms` });
      request.destroy();
    }, timeoutMs);
    request.on('error', (error: NodeJS.ErrnoException) => {
      finish({ error: error.code ?? error.message });
    });
    request.end(body);
  });
}

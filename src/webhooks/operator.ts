import type { AuditLog } from '../observability/audit-log.js';
import type { CredentialStore } from '../security/credentials/store.js';
import { checkWebhookTarget, type Resolver } from '../security/webhook-target.js';
import type { WebhookAttempt, WebhookEndpoint, WebhookEndpointStore } from './endpoint-store.js';
import type { WebhookEventType } from './event-types.js';
import type { WebhookQueue } from './webhook-queue.js';

export interface WebhookOperatorDeps {
  endpoints: WebhookEndpointStore;
  credentials: CredentialStore;
  audit: AuditLog;
  /** For replay: adds a job like the dispatcher does. */
  queue: WebhookQueue;
  allowPrivate: boolean;
  resolve?: Resolver | undefined;
  /** `admin` or `cli:<OS user>`. */
  actor: string;
}

export type AddResult =
  | { ok: true; endpoint: WebhookEndpoint }
  | { ok: false; code: 'url_refused' | 'credential_not_found'; message: string };

/** An endpoint with its newest attempts (the admin page, `webhooks list`). */
export interface EndpointView extends Omit<WebhookEndpoint, 'secret' | 'previousSecret'> {
  attempts: WebhookAttempt[];
}

/**
 * The webhook changes an operator makes, from the CLI or the admin page (ARCHITECTURE
 * §19), each audited here; audit details never hold a secret.
 */
export class WebhookOperator {
  readonly #deps: WebhookOperatorDeps;

  constructor(deps: WebhookOperatorDeps) {
    this.#deps = deps;
  }

  async #audit(action: string, target: string, detail: string): Promise<void> {
    await this.#deps.audit.append({ actor: this.#deps.actor, action, target, detail });
  }

  /** Add an endpoint: its URL must resolve to an allowed address now (SSRF, CONTRACT §Webhooks). */
  async add(input: {
    url: string;
    credential?: string | undefined;
    events: readonly WebhookEventType[];
  }): Promise<AddResult> {
    const check = await checkWebhookTarget(input.url, {
      allowPrivate: this.#deps.allowPrivate,
      resolve: this.#deps.resolve,
    });
    if (!check.ok) return { ok: false, code: 'url_refused', message: check.reason };
    let credential: { id: string; name: string } | undefined;
    if (input.credential !== undefined) {
      const found = await this.#deps.credentials.get(input.credential);
      if (!found || found.revoked) {
        return {
          ok: false,
          code: 'credential_not_found',
          message: `no credential named ${input.credential}`,
        };
      }
      credential = { id: found.id, name: found.name };
    }
    // Kept as written (shown back by add --json and list); parsed again at every try.
    const endpoint = await this.#deps.endpoints.add({
      url: input.url.trim(),
      credential,
      events: input.events,
    });
    await this.#audit(
      'webhook-add',
      endpoint.id,
      `${endpoint.url}; events ${endpoint.events.join(',')}${credential ? `; credential ${credential.name}` : ''}`,
    );
    return { ok: true, endpoint };
  }

  async list(attempts = 10): Promise<EndpointView[]> {
    const endpoints = await this.#deps.endpoints.list();
    return Promise.all(
      endpoints.map(async ({ secret: _s, previousSecret: _p, ...rest }) => ({
        ...rest,
        attempts: await this.#deps.endpoints.attempts(rest.id, attempts),
      })),
    );
  }

  async remove(id: string): Promise<boolean> {
    const removed = await this.#deps.endpoints.remove(id);
    await this.#audit('webhook-remove', id, removed ? 'removed' : 'no such endpoint');
    return removed;
  }

  /** The new secret (shown to the caller once), or undefined for an unknown id. */
  async rotate(id: string): Promise<WebhookEndpoint | undefined> {
    const endpoint = await this.#deps.endpoints.rotate(id);
    await this.#audit(
      'webhook-rotate',
      id,
      endpoint ? 'secret replaced; the previous one signs for 24 h more' : 'no such endpoint',
    );
    return endpoint;
  }

  /**
   * Send a recent attempt's event again (the admin page's replay button), with the same
   * `webhook-id` so an idempotent receiver can tell it is the same event.
   */
  async replay(id: string, eventId: string, at = Date.now()): Promise<boolean> {
    const endpoint = await this.#deps.endpoints.get(id);
    const attempt = endpoint
      ? (await this.#deps.endpoints.attempts(id, 50)).find((entry) => entry.eventId === eventId)
      : undefined;
    if (!endpoint || !attempt) {
      await this.#audit('webhook-replay', id, `event ${eventId}: not found`);
      return false;
    }
    await this.#deps.queue.addAll(
      [{ eventId, endpointId: id, type: attempt.type, eventAt: at, body: attempt.payload }],
      `-r${at}`,
    );
    await this.#audit('webhook-replay', id, `event ${eventId} queued again`);
    return true;
  }
}

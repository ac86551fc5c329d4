import { parseArgs } from 'node:util';
import { createWebhookOperator } from '../runtime/services.js';
import {
  DEFAULT_WEBHOOK_EVENTS,
  parseEventTypes,
  WEBHOOK_EVENT_TYPES,
} from '../webhooks/event-types.js';
import type { EndpointView } from '../webhooks/operator.js';
import { withManagement } from './context.js';
import { ExitCode, type ExitCodeValue, type Output, UsageError } from './output.js';

function endpointLine(endpoint: EndpointView): string {
  const last = endpoint.attempts[0];
  const lastText = last
    ? `last ${last.outcome} ${last.statusCode ?? last.error ?? ''} at ${last.at}`
    : 'no attempts yet';
  return [
    endpoint.id,
    endpoint.url,
    endpoint.credentialName ? `credential ${endpoint.credentialName}` : 'all credentials',
    endpoint.events.join(','),
    endpoint.disabled ? `DISABLED (${endpoint.disabledReason ?? ''})` : 'enabled',
    lastText,
  ].join('\t');
}

/** `postwarden webhooks add URL [--credential NAME] [--events LIST] | list | remove ID | rotate ID`. */
export async function webhooksCommand(args: string[], out: Output): Promise<ExitCodeValue> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      credential: { type: 'string' },
      events: { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  const [action, target, ...rest] = positionals;
  if (rest.length > 0) throw new UsageError(`unexpected argument: ${rest[0]}`);
  if (action !== 'add' && (values.credential !== undefined || values.events !== undefined)) {
    throw new UsageError('--credential and --events belong to webhooks add');
  }
  if (action === 'add') {
    if (!target) throw new UsageError('webhooks add needs a URL');
    let events = [...DEFAULT_WEBHOOK_EVENTS];
    if (values.events !== undefined) {
      const parsed = parseEventTypes(values.events);
      if (!parsed.ok) {
        throw new UsageError(
          `unknown event type "${parsed.unknown}"; known: ${WEBHOOK_EVENT_TYPES.join(', ')}`,
        );
      }
      events = parsed.events;
    }
    return withManagement(async (context) => {
      const operator = createWebhookOperator(context.services, context.config, context.actor);
      const result = await operator.add({ url: target, credential: values.credential, events });
      if (!result.ok) {
        out.error(result.code, result.message);
        return ExitCode.failure;
      }
      const { endpoint } = result;
      out.result(
        { id: endpoint.id, url: endpoint.url, secret: endpoint.secret, events: endpoint.events },
        [
          `Added webhook ${endpoint.id} → ${endpoint.url} (${endpoint.events.join(', ')}).`,
          `Signing secret (shown only this once): ${endpoint.secret}`,
        ],
      );
      return ExitCode.ok;
    });
  }
  if (action === 'list') {
    if (target) throw new UsageError('webhooks list takes no argument');
    return withManagement(async (context) => {
      const operator = createWebhookOperator(context.services, context.config, context.actor);
      const endpoints = await operator.list(5);
      out.result(
        endpoints,
        endpoints.length === 0 ? 'No webhooks yet.' : endpoints.map(endpointLine),
      );
      return ExitCode.ok;
    });
  }
  if (action === 'remove' || action === 'rotate') {
    if (!target) throw new UsageError(`webhooks ${action} needs an ID`);
    return withManagement(async (context) => {
      const operator = createWebhookOperator(context.services, context.config, context.actor);
      if (action === 'remove') {
        if (!(await operator.remove(target))) {
          out.error('not_found', `no webhook ${target}`);
          return ExitCode.failure;
        }
        out.result({ id: target, removed: true }, `Removed webhook ${target}.`);
        return ExitCode.ok;
      }
      const endpoint = await operator.rotate(target);
      if (!endpoint) {
        out.error('not_found', `no webhook ${target}`);
        return ExitCode.failure;
      }
      out.result(
        {
          id: endpoint.id,
          url: endpoint.url,
          secret: endpoint.secret,
          previousValidUntil: new Date(endpoint.previousUntil ?? 0).toISOString(),
        },
        [
          `New signing secret for ${endpoint.id} (shown only this once): ${endpoint.secret}`,
          `The previous secret also signs until ${new Date(endpoint.previousUntil ?? 0).toISOString()}.`,
        ],
      );
      return ExitCode.ok;
    });
  }
  throw new UsageError(`webhooks: unknown action ${action ?? '(none)'}`);
}

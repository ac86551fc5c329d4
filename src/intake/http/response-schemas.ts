/**
 * Response schemas of the `/v1` API (CONTRACT §HTTP API). fastify serializes with them
 * and @fastify/swagger describes them in /v1/openapi.json, so the document is the
 * server's own view. A response schema also strips fields it does not name: every field
 * the contract shows is named here (test/integration/http-api.test.ts checks the shapes).
 */

/** `{"error": {"code", "message"}}`, the shape of every refusal. */
export const errorResponseSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: { type: 'string', description: 'snake_case error code (CONTRACT §HTTP API)' },
        message: { type: 'string' },
      },
    },
  },
} as const;

/** What each status a route can answer means, as the OpenAPI document says it. */
const ERROR_DESCRIPTIONS: Readonly<Record<number, string>> = {
  400: 'invalid_request: schema violation, CR/LF or NUL in a header value or address, bad address',
  401: 'unauthorized: missing, unknown or revoked secret',
  403: 'banned, sender_not_allowed or recipient_not_allowed',
  404: 'not_found',
  408: 'request_timeout: the body did not arrive in time',
  413: 'too_large: over POSTWARDEN_MAX_MESSAGE_BYTES',
  415: 'unsupported_media_type: the body is not application/json',
  422: 'too_many_recipients',
  429: 'rate_limited or credential_held, with Retry-After',
  500: 'internal_error',
  503: 'queue_unavailable or server_busy (with Retry-After): never accepted then',
};

/** Statuses answered with `Retry-After` (CONTRACT §HTTP API: rate limits, a busy server). */
const RETRY_AFTER_STATUSES = new Set([429, 503]);

const retryAfterHeader = {
  'Retry-After': { type: 'integer', description: 'seconds until a retry can succeed' },
} as const;

/**
 * The contract's error codes per status (CONTRACT §HTTP API), named in the document as
 * an enum. Serialization ignores enums, so a code added later still goes out unchanged.
 */
const ERROR_CODES: Readonly<Record<number, readonly string[]>> = {
  400: ['invalid_request'],
  401: ['unauthorized'],
  403: ['banned', 'sender_not_allowed', 'recipient_not_allowed'],
  404: ['not_found'],
  408: ['request_timeout'],
  413: ['too_large'],
  415: ['unsupported_media_type'],
  422: ['too_many_recipients'],
  429: ['rate_limited', 'credential_held'],
  500: ['internal_error'],
  503: ['queue_unavailable', 'server_busy'],
};

function errorSchemaFor(status: number) {
  const codes = ERROR_CODES[status];
  if (!codes) return errorResponseSchema;
  const { error } = errorResponseSchema.properties;
  return {
    ...errorResponseSchema,
    properties: {
      error: {
        ...error,
        properties: { ...error.properties, code: { ...error.properties.code, enum: codes } },
      },
    },
  };
}

/** `{status: errorSchema}` for each status, each with its description. */
export function errorResponses(statuses: readonly number[]): Record<string, object> {
  return Object.fromEntries(
    statuses.map((status) => [
      String(status),
      {
        description: ERROR_DESCRIPTIONS[status] ?? 'error',
        ...errorSchemaFor(status),
        // Documentation only (@fastify/swagger's response headers); serialization ignores it.
        ...(RETRY_AFTER_STATUSES.has(status) ? { headers: retryAfterHeader } : {}),
      },
    ]),
  );
}

/** Statuses shared by every bearer-authenticated route. */
export const AUTHENTICATED_ERRORS = [401, 403, 429, 500, 503] as const;

const MESSAGE_STATUSES = [
  'queued',
  'deferred',
  'held',
  'delivered',
  'bounced',
  'expired',
  'suppressed',
  'purged',
  'partial',
];

export const acceptedResponseSchema = {
  description: 'durably queued (held when its credential is on hold)',
  type: 'object',
  required: ['id', 'status'],
  properties: {
    id: { type: 'string' },
    status: { type: 'string', enum: ['queued', 'held'] },
  },
} as const;

export const messageViewResponseSchema = {
  description: 'the message, its recipients and its events',
  type: 'object',
  required: ['id', 'status', 'from', 'subject', 'createdAt', 'attempts', 'recipients', 'events'],
  properties: {
    id: { type: 'string' },
    status: { type: 'string', enum: MESSAGE_STATUSES },
    from: { type: 'string' },
    subject: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    attempts: { type: 'integer' },
    recipients: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          address: { type: 'string' },
          status: { type: 'string', enum: MESSAGE_STATUSES.filter((s) => s !== 'partial') },
          detail: { type: 'string', description: 'last upstream reply or reason' },
        },
      },
    },
    events: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          type: { type: 'string', description: 'queued, deferred, held, released, delivered, …' },
          at: { type: 'string', format: 'date-time' },
          detail: { type: 'string', description: 'upstream reply or reason' },
        },
      },
    },
  },
} as const;

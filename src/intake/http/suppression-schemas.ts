import { MAX_SUPPRESSION_PAGE } from '../../queue/suppressions.js';

/**
 * Route schemas of `GET /v1/suppressions` and `DELETE /v1/suppressions/:address`
 * (CONTRACT §Suppressions), responses and errors included, so the OpenAPI document
 * generated from route schemas describes them fully.
 */
const errorResponse = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' } },
    },
  },
} as const;

const errors = {
  400: { description: 'invalid_request', ...errorResponse },
  401: { description: 'unauthorized: missing, unknown or revoked secret', ...errorResponse },
  403: { description: 'banned', ...errorResponse },
  503: { description: 'queue_unavailable', ...errorResponse },
} as const;

export const listSuppressionsSchema = {
  summary: "The credential's own suppression list, a page at a time in address order",
  tags: ['suppressions'],
  querystring: {
    type: 'object',
    additionalProperties: false,
    properties: {
      // Query values stay strings (types are not coerced): a number written as digits.
      limit: {
        type: 'string',
        pattern: '^[1-9][0-9]{0,2}$',
        description: `entries per page, 1–${MAX_SUPPRESSION_PAGE} (default 100)`,
      },
      after: {
        type: 'string',
        minLength: 1,
        maxLength: 320,
        description: 'the `next` of the previous page',
      },
    },
  },
  response: {
    200: {
      type: 'object',
      required: ['data'],
      properties: {
        data: {
          type: 'array',
          items: {
            type: 'object',
            required: ['address', 'reason', 'createdAt'],
            properties: {
              address: { type: 'string' },
              reason: { type: 'string', description: 'the bounce reply, or `manual`' },
              createdAt: { type: 'string', format: 'date-time' },
            },
          },
        },
        next: { type: 'string', description: 'cursor of the next page; absent on the last' },
      },
    },
    ...errors,
  },
} as const;

export const deleteSuppressionSchema = {
  summary: "Remove an address from the credential's own suppression list",
  tags: ['suppressions'],
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['address'],
    properties: { address: { type: 'string', minLength: 1, maxLength: 320 } },
  },
  response: {
    204: { description: 'removed', type: 'null' },
    404: { description: 'not_found: the address is not on the list', ...errorResponse },
    ...errors,
  },
} as const;

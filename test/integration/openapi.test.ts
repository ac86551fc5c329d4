import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Validator } from '@seriousme/openapi-schema-validator';
import { messageBodySchema } from '../../src/intake/http/schemas.js';
import { type InProcessRelay, startInProcessRelay } from '../support/in-process-relay.js';

interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OpenApiOperation>>;
  components: { securitySchemes: Record<string, { type: string; scheme: string }> };
}

interface OpenApiOperation {
  security?: Array<Record<string, string[]>>;
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { content?: Record<string, { schema: unknown }> }>;
}

/**
 * Every route of fastify's router as `METHOD /path`, read from `printRoutes` (the router's
 * own tree, independent of @fastify/swagger): each line is a path segment under its
 * parent, indented four characters per level, with its methods in parentheses.
 */
function routerRoutes(tree: string): string[] {
  const stack: string[] = [];
  const routes: string[] = [];
  for (const line of tree.split('\n')) {
    const match = /^((?:[│ ] {3})*)[├└]── (.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!match) continue;
    const depth = (match[1] ?? '').length / 4;
    stack.length = depth;
    stack.push(match[2] ?? '');
    const path = stack.join('');
    for (const method of (match[3] ?? '').split(', ').filter(Boolean)) {
      routes.push(`${method} ${path}`);
    }
  }
  return routes;
}

/** fastify's `:id` is OpenAPI's `{id}`. */
function openApiPath(path: string): string {
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

describe('GET /v1/openapi.json', () => {
  let relay: InProcessRelay;
  let document: OpenApiDocument;

  before(async () => {
    relay = await startInProcessRelay({}, { role: 'intake' });
    const response = await fetch(`${relay.baseUrl}/v1/openapi.json`);
    assert.equal(response.status, 200);
    assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
    document = (await response.json()) as OpenApiDocument;
  });

  after(async () => {
    await relay?.close();
  });

  it('is a valid OpenAPI 3.1 document by a real validator', async () => {
    const validator = new Validator();
    const result = await validator.validate(
      structuredClone(document) as unknown as Record<string, unknown>,
    );
    assert.deepEqual(result.errors ?? [], []);
    assert.equal(result.valid, true);
    assert.equal(validator.version, '3.1');
    assert.equal(document.openapi, '3.1.0');
  });

  it('describes every route the server registers under /v1, and nothing else', () => {
    const registered = routerRoutes(relay.relay.http.printRoutes({ commonPrefix: false }));
    // The router really was read: the API's own routes are among those found.
    assert.ok(registered.includes('POST /v1/messages'), registered.join('\n'));
    assert.ok(registered.includes('GET /v1/messages/:id'));
    // HEAD is GET's automatic twin; @fastify/swagger leaves it out by design.
    const v1 = registered.filter(
      (r) => r.split(' ')[1]?.startsWith('/v1/') && !r.startsWith('HEAD '),
    );
    const described = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
    );
    const missing = v1.filter((route) => {
      const [method, path] = route.split(' ');
      return !described.includes(`${method} ${openApiPath(path ?? '')}`);
    });
    assert.deepEqual(missing, [], `routes missing from the document:\n${missing.join('\n')}`);
    // Admin, /metrics, health and the compatible dialects are not part of /v1.
    const outside = Object.keys(document.paths).filter((path) => !path.startsWith('/v1/'));
    assert.deepEqual(outside, []);
  });

  it('uses the very request schema the server validates with', () => {
    const post = document.paths['/v1/messages']?.post;
    assert.deepEqual(post?.requestBody?.content['application/json']?.schema, messageBodySchema);
  });

  it('names the bearer security scheme and every error status of the API with its body', () => {
    assert.deepEqual(document.components.securitySchemes.bearer, {
      type: 'http',
      scheme: 'bearer',
      description: 'a credential secret (postwarden credentials create)',
    });
    const post = document.paths['/v1/messages']?.post;
    const get = document.paths['/v1/messages/{id}']?.get;
    assert.deepEqual(post?.security, [{ bearer: [] }]);
    assert.deepEqual(get?.security, [{ bearer: [] }]);
    const postStatuses = ['202', '400', '401', '403', '408', '413', '415', '422', '429', '503'];
    for (const status of postStatuses) assert.ok(post?.responses[status], `POST answers ${status}`);
    for (const status of ['200', '401', '403', '404', '429', '503']) {
      assert.ok(get?.responses[status], `GET answers ${status}`);
    }
    const errorSchema = post?.responses['403']?.content?.['application/json']?.schema as {
      properties: { error: { required: string[]; properties: { code: { enum: string[] } } } };
    };
    assert.deepEqual(errorSchema.properties.error.required, ['code', 'message']);
    assert.deepEqual(errorSchema.properties.error.properties.code.enum, [
      'banned',
      'sender_not_allowed',
      'recipient_not_allowed',
    ]);
  });

  it('needs no authentication', async () => {
    const response = await fetch(`${relay.baseUrl}/v1/openapi.json`, {
      headers: { authorization: 'Bearer wrong' },
    });
    assert.equal(response.status, 200);
  });
});

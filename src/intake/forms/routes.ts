import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import formbody from '@fastify/formbody';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { QueueUnavailableError } from '../../errors.js';
import { LogEvent } from '../../observability/events.js';
import type { Form, FormStore } from '../../security/forms/form-store.js';
import { FormErrors, isJsonRequest, sendFormError, sendFormSuccess } from './answers.js';
import {
  FIELDS_BODY_LIMIT,
  FILES_BODY_LIMIT,
  fieldsOfObject,
  isMultipart,
  readMultipart,
} from './fields.js';
import { allowOrigin, answerPreflight, isOriginAllowed, requestOrigin } from './origin.js';
import { type SubmitDeps, submitFormPost } from './submit.js';

export interface FormsRoutesDeps extends SubmitDeps {
  forms: FormStore;
}

/** The ALTCHA widget (package `altcha`), served by the relay: a page loads nothing from elsewhere. */
function widgetScript(): Buffer {
  const entry = createRequire(import.meta.url).resolve('altcha');
  return readFileSync(path.join(path.dirname(entry), 'altcha.min.js'));
}

const URLENCODED = /^application\/x-www-form-urlencoded/i;

/**
 * The public form endpoint (CONTRACT §Lead forms), in its own encapsulated plugin: the
 * urlencoded and multipart parsers exist only here (the message API stays JSON-only),
 * and no bearer hook applies. Each request reads its form by id, one key, first.
 */
export function formsRoutes(deps: FormsRoutesDeps) {
  return async function registerFormsRoutes(app: FastifyInstance): Promise<void> {
    await app.register(formbody, { bodyLimit: FIELDS_BODY_LIMIT });
    await app.register(multipart);
    const widget = widgetScript();

    /** The form and the page's origin, or the error answer already sent. */
    const formFor = async (
      request: FastifyRequest,
      reply: FastifyReply,
    ): Promise<{ form: Form; origin: string } | undefined> => {
      const { id } = request.params as { id: string };
      let form: Form | undefined;
      try {
        form = await deps.forms.get(id);
      } catch (error) {
        throw new QueueUnavailableError('form store unreachable', { cause: error });
      }
      if (!form) {
        sendFormError(request, reply, FormErrors.notFound);
        return undefined;
      }
      const origin = requestOrigin(request);
      if (!isOriginAllowed(form, origin)) {
        deps.onVerdict?.(form.name, 'refused');
        request.log.info(
          { event: LogEvent.formRefused, form: form.name, code: 'origin_not_allowed' },
          'form post refused',
        );
        sendFormError(request, reply, FormErrors.originNotAllowed);
        return undefined;
      }
      allowOrigin(reply, origin);
      return { form, origin };
    };

    // A public static file loaded by other origins' pages as a module script, which
    // browsers fetch in CORS mode: `*` is right for it (it carries no data).
    app.get('/v1/forms/widget.js', async (_request, reply) =>
      reply
        .header('Access-Control-Allow-Origin', '*')
        .header('Cache-Control', 'public, max-age=3600')
        .type('text/javascript; charset=utf-8')
        .send(widget),
    );

    app.options('/v1/forms/:id', async (request, reply) => {
      const found = await formFor(request, reply);
      return found ? answerPreflight(reply, found.origin) : reply;
    });

    app.get('/v1/forms/:id/challenge', async (request, reply) => {
      const found = await formFor(request, reply);
      if (!found) return reply;
      if (!found.form.pow) return sendFormError(request, reply, FormErrors.notFound);
      return reply
        .header('Cache-Control', 'no-store')
        .send(await deps.pow.challenge(found.form.id));
    });

    // A multipart body (files) is read by @fastify/multipart, up to FILES_BODY_LIMIT: the
    // in-flight budget reserves it at that (intake/http/inflight-hook.ts).
    const limits = { bodyLimit: FIELDS_BODY_LIMIT, config: { multipartLimit: FILES_BODY_LIMIT } };
    app.post('/v1/forms/:id', limits, async (request, reply) => {
      const type = request.headers['content-type'] ?? '';
      if (!isJsonRequest(request) && !URLENCODED.test(type) && !isMultipart(request)) {
        return sendFormError(request, reply, FormErrors.unsupportedMediaType);
      }
      const found = await formFor(request, reply);
      if (!found) return reply;
      const post = isMultipart(request)
        ? await readMultipart(request)
        : { fields: fieldsOfObject(request.body), files: [] };
      const result = await submitFormPost(deps, request, found.form, post);
      if (!result.ok) return sendFormError(request, reply, result.error);
      return sendFormSuccess(request, reply, found.form, result.id);
    });
  };
}

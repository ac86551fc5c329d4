import { parseArgs } from 'node:util';
import type { Config } from '../config/load.js';
import { Staging } from '../queue/staging.js';
import { hostForUrl } from '../runtime/roles.js';
import type { Form } from '../security/forms/form-store.js';
import { formEndpoint, formSnippet } from '../security/forms/snippet.js';
import { withManagement } from './context.js';
import { parseRate } from './credentials.js';
import { ExitCode, type ExitCodeValue, type Output, UsageError } from './output.js';

/** The relay's own HTTP address as configured: what a page's form posts to. */
function relayUrl(config: Readonly<Config>): string {
  return `http://${hostForUrl(config.httpHost)}:${config.httpPort}`;
}

function formLine(form: Form): string {
  const options = [
    `to ${form.to.join(',')}`,
    `origins ${form.origins.join(',')}`,
    `rate ${form.ratePerMinute}/min`,
    ...(form.pow ? ['pow'] : []),
    ...(form.redirect ? [`redirect ${form.redirect}`] : []),
  ];
  return `${form.name}\t${form.id}\t${options.join('\t')}`;
}

/** `postwarden forms create|list|remove` and `forms spam list|release` (CONTRACT §CLI). */
export async function formsCommand(args: string[], out: Output): Promise<ExitCodeValue> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      to: { type: 'string', multiple: true },
      origin: { type: 'string', multiple: true },
      from: { type: 'string' },
      subject: { type: 'string' },
      redirect: { type: 'string' },
      rate: { type: 'string' },
      pow: { type: 'boolean' },
      json: { type: 'boolean' },
    },
  });
  const [action, name, ...rest] = positionals;
  if (action === 'spam') return spamCommand(name, rest, out);
  if (rest.length > 0) throw new UsageError(`unexpected argument: ${rest[0]}`);
  if (action === 'create') {
    if (!name) throw new UsageError('forms create needs a NAME');
    if (!values.to?.length) throw new UsageError('forms create needs at least one --to ADDRESS');
    if (!values.origin?.length)
      throw new UsageError('forms create needs at least one --origin ORIGIN');
    const input = {
      name,
      to: values.to,
      origins: values.origin,
      from: values.from,
      subject: values.subject,
      redirect: values.redirect,
      ratePerMinute: parseRate(values.rate),
      pow: values.pow,
    };
    return withManagement(async (context) => {
      const form = await context.services.forms.create(input);
      const base = relayUrl(context.config);
      const endpoint = formEndpoint(base, form);
      const snippet = formSnippet(base, form);
      out.result(
        { name: form.name, id: form.id, to: form.to, origins: form.origins, endpoint, snippet },
        [
          `Created form ${form.name} (id ${form.id}; not a secret) → ${form.to.join(', ')}.`,
          `Posts to ${endpoint} from ${form.origins.join(', ')}. Paste into the page:`,
          '',
          snippet,
        ],
      );
      return ExitCode.ok;
    });
  }
  if (action === 'list') {
    if (name) throw new UsageError('forms list takes no NAME');
    return withManagement(async (context) => {
      const forms = await context.services.forms.list();
      out.result(forms, forms.length === 0 ? 'No forms yet.' : forms.map(formLine));
      return ExitCode.ok;
    });
  }
  if (action === 'remove') {
    if (!name) throw new UsageError('forms remove needs a NAME');
    return withManagement(async (context) => {
      if (!(await context.services.forms.remove(name))) {
        out.error('not_found', `no form named ${name}`);
        return ExitCode.failure;
      }
      out.result({ name, removed: true }, `Removed form ${name}: its id now answers 404.`);
      return ExitCode.ok;
    });
  }
  throw new UsageError(`forms: unknown action ${action ?? '(none)'}`);
}

async function spamCommand(
  action: string | undefined,
  rest: string[],
  out: Output,
): Promise<ExitCodeValue> {
  const [id, ...extra] = rest;
  if (extra.length > 0) throw new UsageError(`unexpected argument: ${extra[0]}`);
  if (action === undefined || action === 'list') {
    if (id) throw new UsageError('forms spam list takes no ID');
    return withManagement(async (context) => {
      const posts = await context.services.formQuarantine.list();
      out.result(
        posts,
        posts.length === 0
          ? 'No quarantined form posts.'
          : posts.map((p) => `${p.id}\t${p.form}\t${p.createdAt}\t${p.size} bytes\t${p.subject}`),
      );
      return ExitCode.ok;
    });
  }
  if (action === 'release') {
    if (!id) throw new UsageError('forms spam release needs an ID');
    return withManagement(async (context) => {
      const { services } = context;
      const staging = new Staging(services.redis, services.keys, services.queue);
      const result = await services.formQuarantine.release(id, staging);
      if (!result.released) {
        out.error('not_found', `no quarantined form post ${id}`);
        return ExitCode.failure;
      }
      out.result(
        { id, released: true, messageId: result.messageId },
        `Released ${id}: queued as message ${result.messageId}.`,
      );
      return ExitCode.ok;
    });
  }
  throw new UsageError(`forms spam: unknown action ${action}`);
}

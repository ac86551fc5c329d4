import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { MIN_ADMIN_PASSWORD_LENGTH } from '../config/schema.js';
import { createSecurityOperator } from '../runtime/services.js';
import { openManagement } from './context.js';
import { ExitCode, type ExitCodeValue, type Output, UsageError } from './output.js';

/** The new password: typed at a terminal (not echoed), or the first line of stdin. */
async function readPassword(): Promise<string> {
  if (process.stdin.isTTY) {
    let muted = false;
    const output = new Writable({
      write(chunk, _encoding, done) {
        if (!muted) process.stderr.write(chunk);
        done();
      },
    });
    const rl = createInterface({ input: process.stdin, output, terminal: true });
    try {
      const answer = rl.question('New admin password: ');
      muted = true; // the prompt is out; what is typed next is not shown
      return await answer;
    } finally {
      rl.close();
      process.stderr.write('\n');
    }
  }
  let text = '';
  for await (const chunk of process.stdin) text += chunk.toString();
  return text.split(/\r?\n/)[0] ?? '';
}

export async function adminCommand(args: string[], out: Output): Promise<ExitCodeValue> {
  const { positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { json: { type: 'boolean' } },
  });
  if (positionals[0] !== 'set-password' || positionals.length > 1) {
    throw new UsageError('admin: the only action is set-password');
  }
  const password = await readPassword();
  if ([...password].length < MIN_ADMIN_PASSWORD_LENGTH) {
    out.error(
      'weak_password',
      `the admin password must have at least ${MIN_ADMIN_PASSWORD_LENGTH} characters`,
    );
    return ExitCode.failure;
  }
  const context = await openManagement();
  try {
    await createSecurityOperator(context.services, context.actor).setAdminPassword(password);
    out.result({ updated: true }, 'Admin password changed; every admin session has ended.');
    return ExitCode.ok;
  } finally {
    await context.close();
  }
}

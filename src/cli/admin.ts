import { createInterface } from 'node:readline/promises';
import { parseArgs } from 'node:util';
import { setAdminPassword } from '../runtime/first-run.js';
import { openManagement } from './context.js';
import { ExitCode, type ExitCodeValue, type Output, UsageError } from './output.js';

async function readPassword(): Promise<string> {
  if (process.stdin.isTTY) {
    const rl = createInterface({ input: process.stdin, output: process.stderr });
    try {
      return (await rl.question('New admin password: ')).trim();
    } finally {
      rl.close();
    }
  }
  let text = '';
  for await (const chunk of process.stdin) text += chunk.toString();
  return text.replace(/\r?\n$/, '');
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
  if (password.length < 8) {
    out.error('weak_password', 'the admin password must have at least 8 characters');
    return ExitCode.failure;
  }
  const context = await openManagement();
  try {
    await setAdminPassword(context.services.redis, context.services.keys, password);
    out.result({ updated: true }, 'Admin password changed.');
    return ExitCode.ok;
  } finally {
    await context.close();
  }
}

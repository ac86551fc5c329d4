import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type Helper, startHelper } from '../lib/helper-process.js';
import { canConnect, waitUntil } from '../lib/ports.js';
import { processTree } from '../lib/proc.js';
import { renderMainCf, renderMasterCf, renderSenderLoginMap } from '../postfix/config.js';
import type { Login } from '../postfix/dovecot-auth.js';
import type { SystemUnderTest } from './system.js';

export interface PostfixInstance extends SystemUnderTest {
  dir: string;
  smtpPort: number;
}

function postfix(configDir: string, command: string): string {
  const result = spawnSync('postfix', ['-c', configDir, command], { encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`postfix ${command} failed: ${result.stderr || result.stdout}`);
  }
  return result.stderr + result.stdout;
}

/** Whether `postfix` from the OS packages is installed. */
export function hasPostfix(): boolean {
  return spawnSync('sh', ['-c', 'command -v postfix'], { encoding: 'utf8' }).stdout.trim() !== '';
}

/**
 * A throwaway Postfix in a temp dir of its own (config, queue, data), relaying only to
 * the sink on 127.0.0.1 — the configuration is complete before `postfix start`, so it
 * can send nowhere else. Needs root (Postfix's master runs as root, daemons as `postfix`).
 */
export async function startPostfix(options: {
  smtpPort: number;
  sinkPort: number;
  tls: { key: string; cert: string };
  login: Login;
}): Promise<PostfixInstance> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'pw-postfix-'));
  chmodSync(dir, 0o755);
  const configDir = path.join(dir, 'etc');
  const queueDir = path.join(dir, 'spool');
  const dataDir = path.join(dir, 'lib');
  for (const sub of [configDir, queueDir, dataDir]) mkdirSync(sub, { mode: 0o755 });
  const postfixUser = spawnSync('id', ['-u', 'postfix'], { encoding: 'utf8' }).stdout.trim();
  const postfixGroup = spawnSync('id', ['-g', 'postfix'], { encoding: 'utf8' }).stdout.trim();
  chownSync(dataDir, Number(postfixUser), Number(postfixGroup));
  const files = {
    certFile: path.join(configDir, 'cert.pem'),
    keyFile: path.join(configDir, 'key.pem'),
    saslSocket: path.join(dir, 'auth.sock'),
    senderLoginMapFile: path.join(configDir, 'sender-login'),
    maillogFile: path.join(dir, 'maillog'),
  };
  writeFileSync(files.certFile, options.tls.cert);
  writeFileSync(files.keyFile, options.tls.key, { mode: 0o600 });
  writeFileSync(files.senderLoginMapFile, renderSenderLoginMap(options.login.user));
  const config = {
    configDir,
    queueDir,
    dataDir,
    smtpPort: options.smtpPort,
    sinkPort: options.sinkPort,
    ...files,
  };
  writeFileSync(path.join(configDir, 'main.cf'), renderMainCf(config));
  writeFileSync(path.join(configDir, 'master.cf'), renderMasterCf(config));
  let auth: Helper<unknown> | undefined;
  try {
    auth = await startHelper('dovecot-auth', { socket: files.saslSocket, login: options.login });
    postfix(configDir, 'start');
    await waitUntil(() => canConnect(options.smtpPort), 20_000, 'postfix smtpd to listen');
  } catch (error) {
    spawnSync('postfix', ['-c', configDir, 'abort']);
    await auth?.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const masterPid = Number(readFileSync(path.join(queueDir, 'pid/master.pid'), 'utf8').trim());
  const authPid = auth.pid;
  return {
    name: 'postfix',
    dir,
    smtpPort: options.smtpPort,
    user: options.login.user,
    password: options.login.password,
    // The SASL helper counts as Postfix's: a real deployment runs Dovecot's auth process.
    pids: () => [...processTree(masterPid), authPid],
    async stop() {
      try {
        postfix(configDir, 'stop');
        await waitUntil(() => processTree(masterPid).length === 0, 20_000, 'postfix to stop');
      } catch {
        spawnSync('postfix', ['-c', configDir, 'abort']);
      }
      await auth?.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

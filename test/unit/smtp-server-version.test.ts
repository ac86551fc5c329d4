import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, it } from 'node:test';
import { PostwardenError } from '../../src/errors.js';
import {
  checkSmtpServerVersion,
  installedSmtpServerVersion,
  SUPPORTED_SMTP_SERVER_VERSIONS,
} from '../../src/intake/smtp/smtp-server-patches.js';

async function readJson(path: string): Promise<Record<string, unknown>> {
  return JSON.parse(await readFile(new URL(`../../${path}`, import.meta.url), 'utf8'));
}

describe('smtp-server version check', () => {
  it('accepts the version the patches were written for', () => {
    assert.doesNotThrow(() => checkSmtpServerVersion('3.21.6'));
  });

  it('refuses any other version, saying what is installed, what is supported and what to do', () => {
    for (const version of ['3.21.7', '3.22.0', '4.0.0', '3.21.5']) {
      assert.throws(
        () => checkSmtpServerVersion(version),
        (error: unknown) => {
          assert.ok(error instanceof PostwardenError);
          assert.equal(error.code, 'unsupported_dependency');
          assert.match(
            error.message,
            new RegExp(`smtp-server ${version.replaceAll('.', '\\.')} is installed`),
          );
          assert.match(error.message, /supports only smtp-server 3\.21\.6/);
          assert.match(error.message, /npm ci/);
          assert.match(error.message, /smtp-server-patches\.ts/);
          return true;
        },
      );
    }
  });

  it('finds the installed smtp-server supported', () => {
    assert.doesNotThrow(() => checkSmtpServerVersion(installedSmtpServerVersion()));
  });

  it('pins smtp-server in package.json and the lock to exactly a supported version', async () => {
    const manifest = (await readJson('package.json')) as { dependencies: Record<string, string> };
    const lock = (await readJson('package-lock.json')) as {
      packages: Record<string, { dependencies?: Record<string, string>; version?: string }>;
    };
    const pinned = manifest.dependencies['smtp-server'];
    assert.ok(pinned && SUPPORTED_SMTP_SERVER_VERSIONS.includes(pinned), `pinned: ${pinned}`);
    assert.equal(lock.packages['']?.dependencies?.['smtp-server'], pinned);
    assert.equal(lock.packages['node_modules/smtp-server']?.version, pinned);
  });
});

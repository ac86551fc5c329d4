import { parseArgs } from 'node:util';
import { createSelftestFixture } from '../security/selftest/fixture.js';
import { formatResult, runSelftest } from '../security/selftest/run.js';
import { openManagement } from './context.js';
import { ExitCode, type ExitCodeValue, type Output, UsageError } from './output.js';

function parseHostPort(text: string): { host: string; port: number } {
  const match = /^\[?([^\]]+?)\]?:(\d+)$/.exec(text);
  const port = Number(match?.[2]);
  if (!match?.[1] || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`--smtp: "${text}" is not HOST:PORT`);
  }
  return { host: match[1], port };
}

function connectHost(host: string): string {
  return host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
}

/** `postwarden selftest`: attack the running relay's doors; exit 1 if any is open. */
export async function selftestCommand(args: string[], out: Output): Promise<ExitCodeValue> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { smtp: { type: 'string' }, http: { type: 'string' }, json: { type: 'boolean' } },
  });
  if (positionals.length > 0) throw new UsageError(`unexpected argument: ${positionals[0]}`);
  // Arguments are checked before Redis is touched: a usage error exits 2 at once.
  const smtpArg = values.smtp ? parseHostPort(values.smtp) : undefined;
  if (values.http !== undefined && !URL.canParse(values.http)) {
    throw new UsageError(`--http: "${values.http}" is not a URL`);
  }
  const context = await openManagement();
  try {
    const { config, services } = context;
    const smtp = smtpArg ?? { host: connectHost(config.smtpHost), port: config.smtpPort };
    // The SMTPS port is probed only when the submission port is the configured one.
    const smtps =
      !values.smtp && config.smtpsPort > 0
        ? { host: connectHost(config.smtpHost), port: config.smtpsPort }
        : undefined;
    const httpUrl = values.http ?? `http://${connectHost(config.httpHost)}:${config.httpPort}`;
    const fixture = await createSelftestFixture(services.credentials, services.abuseGuard, [
      smtp.host,
      new URL(httpUrl).hostname,
      '127.0.0.1',
    ]);
    const report = await runSelftest({ smtp, smtps, httpUrl, fixture });
    // Read by the server's postwarden_selftest_last_success gauge.
    await services.settings.recordSelftest({
      ok: report.ok,
      atSeconds: Math.floor(Date.now() / 1000),
    });
    out.result(report, [
      ...report.results.map(formatResult),
      report.ok
        ? 'selftest passed: no door is open.'
        : 'selftest FAILED: at least one door is open (see FAIL above).',
    ]);
    return report.ok ? ExitCode.ok : ExitCode.failure;
  } finally {
    await context.close();
  }
}

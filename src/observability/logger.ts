import pino, { type DestinationStream, type Logger } from 'pino';

export type { Logger } from 'pino';

/**
 * The root logger. Redaction happens here, once, so no child can leak a secret,
 * a password or an AUTH line by accident; message bodies are never passed to it.
 */
export const REDACTED_PATHS = [
  'secret',
  'password',
  'pass',
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'auth.pass',
  'auth.password',
  '*.secret',
  '*.password',
  '*.pass',
];

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      base: { service: 'postwarden' },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination ?? pino.destination({ dest: 1, sync: false }),
  );
}

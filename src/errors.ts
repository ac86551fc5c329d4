/**
 * The one error type shared by every room. `code` is a stable snake_case word
 * (the contract's error codes where one applies); `message` is safe to show a client.
 */
export class PostwardenError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PostwardenError';
    this.code = code;
  }
}

/** Raised by config/load for a bad setting; the message names the variable to change. */
export class ConfigError extends PostwardenError {
  constructor(message: string) {
    super('bad_config', message);
    this.name = 'ConfigError';
  }
}

/** The queue (Redis) cannot durably take a message right now: 451 / 503, never an accept. */
export class QueueUnavailableError extends PostwardenError {
  constructor(reason: string, options?: { cause?: unknown }) {
    super('queue_unavailable', `queue unavailable: ${reason}`, options);
    this.name = 'QueueUnavailableError';
  }
}

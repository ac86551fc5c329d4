/**
 * The child side of helper-process.ts: read the options passed as argv[2], announce
 * `ready`, answer requests with the named handlers, and leave on SIGTERM or when the
 * runner goes away (a dead runner must never leave load generators behind).
 */

export type Handlers = Record<string, (payload: unknown) => Promise<unknown> | unknown>;

export function helperOptions<T>(): T {
  return JSON.parse(process.argv[2] ?? '{}') as T;
}

export function serveHelper(
  ready: unknown,
  handlers: Handlers,
  close: () => Promise<void> | void = () => {},
): void {
  const send = (message: unknown) => process.send?.(message);
  let closing = false;
  const leave = async () => {
    if (closing) return;
    closing = true;
    try {
      await close();
    } finally {
      process.exit(0);
    }
  };
  process.on('message', async (message) => {
    const { id, command, payload } = message as { id: number; command: string; payload: unknown };
    const handler = handlers[command];
    try {
      if (!handler) throw new Error(`unknown command ${command}`);
      send({ id, result: await handler(payload) });
    } catch (error) {
      send({ id, error: (error as Error).message });
    }
  });
  process.on('SIGTERM', leave);
  process.on('disconnect', leave);
  send({ ready });
}

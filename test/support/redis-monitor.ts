import type { Redis } from 'ioredis';

/**
 * The commands Redis executed while `work` ran, as lower-case `[name, firstArg, source]`
 * triples, seen through MONITOR (commands run inside scripts included: their source is
 * `lua`; a client's is its address). Synchronised by an ECHO
 * sent on `connection` after `work`: everything before it has run once it shows up.
 * Only meaningful when nothing else talks to that Redis meanwhile.
 */
export async function commandsDuring(
  connection: Redis,
  work: () => Promise<unknown>,
): Promise<[string, string, string][]> {
  const monitor = await connection.monitor();
  const seen: [string, string, string][] = [];
  const marker = `marker-${Math.random().toString(36).slice(2)}`;
  const done = new Promise<void>((resolve) => {
    monitor.on('monitor', (_time: string, args: string[], source: string) => {
      if (args[0]?.toLowerCase() === 'echo' && args[1] === marker) resolve();
      else seen.push([String(args[0]).toLowerCase(), String(args[1] ?? ''), String(source)]);
    });
  });
  try {
    await work();
    await connection.echo(marker);
    await done;
  } finally {
    monitor.disconnect();
  }
  return seen;
}

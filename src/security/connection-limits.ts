/**
 * Concurrent connections per client IP, across the listeners of one process (SMTP: both
 * listeners; HTTP: its one).
 * The servers only cap the total (smtp-server's `maxClients`), so one address trickling bytes on
 * many sockets (slowloris) could take every slot; with a per-IP cap it cannot.
 */
export class ConnectionLimiter {
  readonly #open = new Map<string, number>();

  constructor(readonly perIp: number) {}

  /** Count a new connection; false (and nothing counted) when the IP is at its limit. */
  tryOpen(ip: string): boolean {
    const current = this.#open.get(ip) ?? 0;
    if (current >= this.perIp) return false;
    this.#open.set(ip, current + 1);
    return true;
  }

  release(ip: string): void {
    const current = this.#open.get(ip) ?? 0;
    if (current <= 1) this.#open.delete(ip);
    else this.#open.set(ip, current - 1);
  }

  openFrom(ip: string): number {
    return this.#open.get(ip) ?? 0;
  }
}

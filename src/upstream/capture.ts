import { chmod, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { bodySize, openBody } from '../message/body-source.js';
import { isMessageId } from '../message/ids.js';
import { type OutgoingMessage, resultsForAll, type Upstream } from './types.js';

/** What is stored next to each captured message (`<id>.json`). */
export interface CapturedMeta {
  id: string;
  envelope: { from: string; to: string[] };
  capturedAt: string;
  size: number;
}

export function captureDir(dataDir: string): string {
  return path.join(dataDir, 'captured');
}

/**
 * The default upstream (CONTRACT §Set-up): delivered messages are kept on disk instead of
 * leaving the machine — `<dataDir>/captured/<id>.eml` and `<id>.json`. Each file is
 * written to a temporary name and renamed, so a reader never sees half a message.
 */
export function createCaptureUpstream(dataDir: string): Upstream {
  const dir = captureDir(dataDir);
  let prepared: Promise<void> | undefined;
  return {
    label: 'capture',
    async send(message: OutgoingMessage) {
      prepared ??= preparePrivateDir(dir).catch((error: unknown) => {
        prepared = undefined;
        throw error;
      });
      await prepared;
      const meta: CapturedMeta = {
        id: message.id,
        envelope: message.envelope,
        capturedAt: new Date().toISOString(),
        size: bodySize(message.raw),
      };
      // The body first: a listed .json always has its .eml.
      // Streamed to the file: a large body is never held whole here.
      await writeAtomically(path.join(dir, `${safeId(message.id)}.eml`), openBody(message.raw));
      await writeAtomically(path.join(dir, `${safeId(message.id)}.json`), JSON.stringify(meta));
      return resultsForAll(message.envelope.to, 'delivered', 'captured');
    },
    async close() {},
  };
}

/**
 * Retention (CONTRACT §Retention): captured mail goes with its message's record, by id —
 * no walk of the folder. Missing files are fine (not captured, or already gone).
 */
export async function deleteCaptured(dataDir: string, ids: readonly string[]): Promise<void> {
  const dir = captureDir(dataDir);
  await Promise.all(
    ids
      .filter((id) => isMessageId(id))
      .flatMap((id) => [`${id}.json`, `${id}.eml`])
      .map((name) => rm(path.join(dir, name), { force: true })),
  );
}

/** Captured mail is whole messages: only the relay's user may read the folder (0700). */
async function preparePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
}

async function writeAtomically(file: string, data: Readable | string): Promise<void> {
  const tmp = `${file}.${process.pid}.${Date.now()}.tmp`;
  try {
    await writeFile(tmp, data, { mode: 0o600 });
  } catch (error) {
    await rm(tmp, { force: true }); // A body that failed mid-read leaves no half file.
    throw error;
  }
  await rename(tmp, file);
}

function safeId(id: string): string {
  if (!isMessageId(id)) throw new Error(`refusing to capture an invalid message id`);
  return id;
}

/** Read side of the capture directory, for the admin page's mailbox. */
export class CaptureStore {
  readonly #dir: string;

  constructor(dataDir: string) {
    this.#dir = captureDir(dataDir);
  }

  /** Newest first. */
  async list(limit: number, offset = 0): Promise<{ total: number; items: CapturedMeta[] }> {
    let names: string[];
    try {
      names = await readdir(this.#dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { total: 0, items: [] };
      throw error;
    }
    const metas = await Promise.all(
      names
        .filter((name) => name.endsWith('.json') && isMessageId(name.slice(0, -5)))
        .map((name) => this.#readMeta(name.slice(0, -5))),
    );
    const items = metas
      .filter((meta): meta is CapturedMeta => meta !== undefined)
      .sort((a, b) => b.capturedAt.localeCompare(a.capturedAt) || b.id.localeCompare(a.id));
    return { total: items.length, items: items.slice(offset, offset + limit) };
  }

  /** One captured message; undefined for unknown or malformed ids (no path tricks). */
  async get(id: string): Promise<{ meta: CapturedMeta; raw: Buffer } | undefined> {
    if (!isMessageId(id)) return undefined;
    const meta = await this.#readMeta(id);
    if (!meta) return undefined;
    try {
      return { meta, raw: await readFile(path.join(this.#dir, `${id}.eml`)) };
    } catch {
      return undefined;
    }
  }

  async #readMeta(id: string): Promise<CapturedMeta | undefined> {
    try {
      const parsed = JSON.parse(await readFile(path.join(this.#dir, `${id}.json`), 'utf8'));
      return isCapturedMeta(parsed) ? parsed : undefined;
    } catch {
      return undefined;
    }
  }
}

function isCapturedMeta(value: unknown): value is CapturedMeta {
  if (!value || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  const envelope = v.envelope as Record<string, unknown> | undefined;
  return (
    typeof v.id === 'string' &&
    typeof v.capturedAt === 'string' &&
    typeof v.size === 'number' &&
    !!envelope &&
    typeof envelope.from === 'string' &&
    Array.isArray(envelope.to)
  );
}

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

/**
 * Where the capture upstream notes what it kept (queue/capture-index.ts, wired by the
 * runtime): the mailbox page lists from it, never from the folder.
 */
export interface CaptureIndexWriter {
  add(id: string, atMs: number): Promise<void>;
}

/** The mailbox page's side of the index: ids newest first, and how many. */
export interface CaptureIndexReader {
  newest(offset: number, count: number): Promise<string[]>;
  count(): Promise<number>;
}

export function captureDir(dataDir: string): string {
  return path.join(dataDir, 'captured');
}

/**
 * The default upstream (CONTRACT §Set-up): delivered messages are kept on disk instead of
 * leaving the machine — `<dataDir>/captured/<id>.eml` and `<id>.json`. Each file is
 * written to a temporary name and renamed, so a reader never sees half a message. Then
 * the id goes into `index` (if given), which the mailbox page lists from.
 */
export function createCaptureUpstream(dataDir: string, index?: CaptureIndexWriter): Upstream {
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
      await index?.add(message.id, Date.parse(meta.capturedAt));
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

/**
 * Mail captured before the index existed (an upgrade): when the index is empty, the
 * folder is read once — at a worker's start, never on a page — and each kept message
 * indexed by its capture time. Returns how many were indexed.
 */
export async function indexCapturedFolder(
  dataDir: string,
  index: CaptureIndexWriter & CaptureIndexReader,
): Promise<number> {
  if ((await index.count()) > 0) return 0;
  let names: string[];
  try {
    names = await readdir(captureDir(dataDir));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw error;
  }
  const store = new CaptureStore(dataDir, index);
  let indexed = 0;
  for (const name of names) {
    const id = name.slice(0, -'.json'.length);
    if (!name.endsWith('.json') || !isMessageId(id)) continue;
    const meta = await store.meta(id);
    if (!meta) continue;
    await index.add(id, Date.parse(meta.capturedAt) || 0);
    indexed += 1;
  }
  return indexed;
}

/** Read side of the capture directory, for the admin page's mailbox. */
export class CaptureStore {
  readonly #dir: string;
  readonly #index: CaptureIndexReader;

  constructor(dataDir: string, index: CaptureIndexReader) {
    this.#dir = captureDir(dataDir);
    this.#index = index;
  }

  /**
   * Newest first: one page of the index and only those files, whatever the history. An
   * id whose files are gone (retention between the two reads, or another machine's
   * folder) is left out of the page.
   */
  async list(limit: number, offset = 0): Promise<{ total: number; items: CapturedMeta[] }> {
    const [ids, total] = await Promise.all([
      this.#index.newest(offset, limit),
      this.#index.count(),
    ]);
    const metas = await Promise.all(ids.map((id) => this.meta(id)));
    return { total, items: metas.filter((meta): meta is CapturedMeta => meta !== undefined) };
  }

  /** One captured message's metadata; undefined when not kept here (or malformed). */
  async meta(id: string): Promise<CapturedMeta | undefined> {
    return isMessageId(id) ? this.#readMeta(id) : undefined;
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

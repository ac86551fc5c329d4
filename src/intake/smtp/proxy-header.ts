import { isIP, type Socket } from 'node:net';

/** Where the proxy says the client is; `local` = the proxy's own connection (a health check). */
export type ProxySource = { kind: 'proxied'; address: string; port: number } | { kind: 'local' };

export type ProxyParse =
  | { done: true; source: ProxySource; length: number }
  | { done: false; error?: string };

/** PROXY protocol v2's 12-byte signature (HAProxy's proxy-protocol.txt §2.2). */
const V2_SIGNATURE = Buffer.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);
/** v1 lines are at most 107 bytes, CRLF included (§2.1). */
const V1_MAX = 107;
const V2_HEADER = 16;
/** v2 with TLVs can be longer; anything past this is not a proxy we configured. */
const V2_MAX = 16 + 2048;

function parseV1(data: Buffer): ProxyParse {
  const end = data.indexOf('\r\n');
  if (end === -1) {
    return data.length >= V1_MAX
      ? { done: false, error: 'PROXY v1 line too long' }
      : { done: false };
  }
  const parts = data.subarray(0, end).toString('latin1').split(' ');
  const [, family, source, , sourcePort] = parts;
  if (family === 'UNKNOWN') return { done: true, source: { kind: 'local' }, length: end + 2 };
  const port = Number(sourcePort);
  const expected = family === 'TCP4' ? 4 : family === 'TCP6' ? 6 : 0;
  if (
    parts.length !== 6 ||
    expected === 0 ||
    isIP(source ?? '') !== expected ||
    !Number.isInteger(port) ||
    port < 0 ||
    port > 65535
  ) {
    return { done: false, error: 'malformed PROXY v1 line' };
  }
  return { done: true, source: { kind: 'proxied', address: source ?? '', port }, length: end + 2 };
}

/** 16 bytes → the canonical text form (RFC 5952: longest zero run as `::`); mapped IPv4 plainly. */
function ipv6(bytes: Buffer): string {
  if (bytes.subarray(0, 10).every((byte) => byte === 0) && bytes.readUInt16BE(10) === 0xffff) {
    return [...bytes.subarray(12, 16)].join('.');
  }
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i));
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.length && j - i > 1) best = { start: i, length: j - i };
    i = j > i ? j : i + 1;
  }
  const hex = groups.map((group) => group.toString(16));
  if (best.start === -1) return hex.join(':');
  const head = hex.slice(0, best.start).join(':');
  const tail = hex.slice(best.start + best.length).join(':');
  return `${head}::${tail}`;
}

function parseV2(data: Buffer): ProxyParse {
  if (data.length < V2_HEADER) return { done: false };
  const versionCommand = data[12] ?? 0;
  const family = data[13] ?? 0;
  const length = V2_HEADER + data.readUInt16BE(14);
  if (versionCommand >> 4 !== 2 || length > V2_MAX) {
    return { done: false, error: 'unsupported PROXY v2 header' };
  }
  if (data.length < length) return { done: false };
  const command = versionCommand & 0x0f;
  if (command === 0) return { done: true, source: { kind: 'local' }, length };
  if (command !== 1) return { done: false, error: 'unknown PROXY v2 command' };
  const body = data.subarray(V2_HEADER, length);
  if (family === 0x11 && body.length >= 12) {
    const address = [...body.subarray(0, 4)].join('.');
    return { done: true, source: { kind: 'proxied', address, port: body.readUInt16BE(8) }, length };
  }
  if (family === 0x21 && body.length >= 36) {
    const address = ipv6(body.subarray(0, 16));
    return {
      done: true,
      source: { kind: 'proxied', address, port: body.readUInt16BE(32) },
      length,
    };
  }
  // UNSPEC, UDP or unix sockets carry no TCP client address for us.
  return { done: false, error: 'PROXY v2 header without a TCP client address' };
}

/**
 * A PROXY protocol header (v1 text or v2 binary) at the start of `data`: the client it
 * names and the header's length, `done: false` while more bytes are needed, or an error
 * for anything that is not a well-formed header. Pure, so every form is unit-tested.
 */
export function parseProxyHeader(data: Buffer): ProxyParse {
  const probe = Math.min(data.length, V2_SIGNATURE.length);
  if (data.subarray(0, probe).equals(V2_SIGNATURE.subarray(0, probe))) {
    return probe < V2_SIGNATURE.length ? { done: false } : parseV2(data);
  }
  const v1 = Buffer.from('PROXY ');
  const start = Math.min(data.length, v1.length);
  if (!data.subarray(0, start).equals(v1.subarray(0, start))) {
    return { done: false, error: 'no PROXY protocol header' };
  }
  return start < v1.length ? { done: false } : parseV1(data);
}

/**
 * Read the PROXY header a trusted proxy sends first, leaving every byte after it on the
 * socket for the SMTP session. Rejects on a malformed or missing header, on a socket
 * closed before it, or when it takes longer than `timeoutMs`.
 */
export function readProxyHeader(socket: Socket, timeoutMs: number): Promise<ProxySource> {
  return new Promise((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const finish = (error: Error | undefined, source?: ProxySource) => {
      clearTimeout(timer);
      socket.off('readable', onReadable);
      socket.off('close', onClose);
      socket.off('end', onClose);
      if (error) reject(error);
      else resolve(source as ProxySource);
    };
    const onClose = () => finish(new Error('connection closed before the PROXY header'));
    const onReadable = () => {
      for (let chunk = socket.read() as Buffer | null; chunk; chunk = socket.read()) {
        buffered = Buffer.concat([buffered, chunk]);
        const parsed = parseProxyHeader(buffered);
        if (parsed.done) {
          const rest = buffered.subarray(parsed.length);
          if (rest.length > 0) socket.unshift(rest);
          finish(undefined, parsed.source);
          return;
        }
        if (parsed.error) {
          finish(new Error(parsed.error));
          return;
        }
      }
    };
    const timer = setTimeout(() => finish(new Error('no PROXY header in time')), timeoutMs);
    timer.unref();
    socket.on('readable', onReadable);
    socket.once('close', onClose);
    socket.once('end', onClose);
  });
}

/**
 * A comma-separated address list (Postmark's `To: "a@x.com, Name <b@y.com>"`) split into
 * one string per address. Commas inside a quoted display name, a comment or angle
 * brackets do not split. Each piece is then read strictly as one mailbox by the native
 * checks (request-checks.ts), so anything a split gets wrong is refused, never widened.
 */
export function splitAddressList(list: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  let angle = 0;
  let comment = 0;
  for (let i = 0; i < list.length; i += 1) {
    const char = list[i] as string;
    if (quoted && char === '\\' && i + 1 < list.length) {
      current += char + list[i + 1];
      i += 1;
      continue;
    }
    if (char === '"' && comment === 0) quoted = !quoted;
    else if (!quoted && char === '(') comment += 1;
    else if (!quoted && char === ')' && comment > 0) comment -= 1;
    else if (!quoted && comment === 0 && char === '<') angle += 1;
    else if (!quoted && comment === 0 && char === '>' && angle > 0) angle -= 1;
    if (char === ',' && !quoted && angle === 0 && comment === 0) {
      parts.push(current);
      current = '';
      continue;
    }
    current += char;
  }
  parts.push(current);
  return parts.map((part) => part.trim()).filter((part) => part.length > 0);
}

const MAX_DETAIL_LENGTH = 300;

/** One line, bounded: details are shown in the API, the CLI and the admin page. */
export function cleanDetail(text: string): string {
  const line = text.replace(/[\r\n\0]+/g, ' ').trim();
  return line.length > MAX_DETAIL_LENGTH ? `${line.slice(0, MAX_DETAIL_LENGTH - 1)}…` : line;
}

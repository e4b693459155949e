/** Messages about JSON a user gave, shared by every room that parses such files (issue 18). */

/**
 * The message of a JSON.parse error without the quoted input: V8 writes `Unexpected token 'r',
 * "root:x:0:0"... is not valid JSON`, and the quoted bytes of, say, /etc/passwd must not reach
 * the terminal or a Redis job's failedReason (issue 18). Keeps the position when V8 gives one.
 */
export function jsonErrorMessage(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  if (/Unexpected end of JSON input/.test(message)) return 'the text ends before the JSON value does';
  const line = /line (\d+) column (\d+)/.exec(message);
  const position = /at position (\d+)/.exec(message)?.[1];
  const where = line ? ` (line ${line[1]} column ${line[2]})` : position !== undefined ? ` (at character ${Number(position) + 1})` : '';
  const base = message
    .replace(/^JSON\.parse: /, '')
    .replace(/,?\s*"[\s\S]*"(\.\.\.)?\s*is not valid JSON\s*$/, '')
    .replace(/\s*in JSON at position[\s\S]*$/, '')
    .replace(/\s*is not valid JSON\s*$/, '')
    .split('\n')[0]!
    .slice(0, 120);
  return `${base || 'not valid JSON'}${where}`;
}

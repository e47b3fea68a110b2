/**
 * The one SSE encoder. `data` must not contain a newline: every caller passes a
 * JSON.stringify result, which never does.
 */
export function sseData(data: string): string {
  return `data: ${data}\n\n`;
}

export function sseEvent(event: string, data: string): string {
  return `event: ${event}\ndata: ${data}\n\n`;
}

/**
 * Upstream error messages can echo part of a key ("Incorrect API key provided:
 * sk-abc***xyz"). Every message taken from an upstream goes through here before
 * it reaches a client, a log or a span.
 */
const KEY_LIKE = /\b(?:sk|pk|rk|gh[pousr])[-_][\w*.-]{4,}/g;

export function maskKeys(message: string): string {
  return message.replace(KEY_LIKE, '[key]');
}

/**
 * A tool call's canonical `arguments` (JSON text) as Anthropic's `input` object.
 * Anthropic requires an object; arguments that are not valid JSON, or not a JSON
 * object (a model can emit truncated JSON when it hits max_tokens), become `{}`
 * rather than failing the whole response.
 */
export function toolInputOf(args: string): Record<string, unknown> {
  if (args.length === 0) return {};
  try {
    const value: unknown = JSON.parse(args);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

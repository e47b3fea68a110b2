/** Where the MCP endpoint and its protected-resource metadata (RFC 9728) are served. Kept apart so the HTTP router never loads the MCP SDK. */
export const MCP_PATH = '/mcp';
export const RESOURCE_METADATA_PATHS: readonly string[] = ['/.well-known/oauth-protected-resource', '/.well-known/oauth-protected-resource/mcp'];

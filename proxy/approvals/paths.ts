/** Where the approvers' API is served. Kept apart so the HTTP router loads the approvals code only when it is asked for. */
export const APPROVALS_PATH = '/v1/gatehouse/approvals';

export function isApprovalsPath(path: string): boolean {
  return path === APPROVALS_PATH || path.startsWith(`${APPROVALS_PATH}/`);
}

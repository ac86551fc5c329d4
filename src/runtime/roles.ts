/** `postwarden start --role`: every role in one process, or intake and workers apart. */
export const ROLES = ['all', 'intake', 'worker'] as const;
export type Role = (typeof ROLES)[number];

export function parseRole(text: string | undefined): Role | undefined {
  const value = text ?? 'all';
  return (ROLES as readonly string[]).includes(value) ? (value as Role) : undefined;
}

import { createHash } from 'node:crypto';

/** A stable pseudonym for a patient identifier: `P` + 16 hex of sha256(salt, id). Empty ids give undefined. */
export function pseudonymize(id: string | undefined, salt: string): string | undefined {
  const value = id?.trim();
  if (!value) return undefined;
  return 'P' + createHash('sha256').update(`${salt}\u0000${value}`).digest('hex').slice(0, 16);
}

import { createHash, createHmac } from 'node:crypto';

/** A stable pseudonym for a patient identifier: `P` + 16 hex of sha256(salt, id). Empty ids give undefined. */
export function pseudonymize(id: string | undefined, salt: string): string | undefined {
  const value = id?.trim();
  if (!value) return undefined;
  return 'P' + createHash('sha256').update(`${salt}\u0000${value}`).digest('hex').slice(0, 16);
}

/**
 * Identifies a salt without revealing it: HMAC-SHA256 keyed by the salt. It goes into cache keys
 * (which are stored in plain text), so a new salt gives new pseudonyms instead of cached old ones.
 */
export function saltFingerprint(salt: string): string {
  return createHmac('sha256', salt).update('pipeline pseudonymisation salt').digest('hex');
}

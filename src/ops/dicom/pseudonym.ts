import { createHash, createHmac } from 'node:crypto';

/** A stable pseudonym for a patient identifier: `P` + 16 hex of sha256(salt, id). Empty ids give undefined. */
export function pseudonymize(id: string | undefined, salt: string): string | undefined {
  const value = id?.trim();
  if (!value) return undefined;
  return 'P' + createHash('sha256').update(`${salt}\u0000${value}`).digest('hex').slice(0, 16);
}

/**
 * A stable replacement for a Study/Series/SOP Instance UID, as DICOM's de-identification profile asks
 * (PS3.15 E.1, action U): real UIDs are identifiers that link back to the archive, and many embed the
 * study date and time. `2.25.` + the decimal of 128 bits of sha256(salt, "uid", uid): a valid UID
 * (PS3.5 B.2, at most 44 characters); the same UID gives the same pseudonym, so studies stay grouped.
 */
export function pseudonymizeUid(uid: string | undefined, salt: string): string | undefined {
  const value = uid?.trim();
  if (!value) return undefined;
  const hex = createHash('sha256').update(`${salt}\u0000uid\u0000${value}`).digest('hex').slice(0, 32);
  return `2.25.${BigInt(`0x${hex}`).toString()}`;
}

/**
 * Of `keys` (label table and split list ids), those that may be a UID, by their pseudonym: lets a cached
 * result that holds only pseudonymised UIDs still match labels keyed by the original SOPInstanceUID.
 * UIDs are at most 64 characters without spaces (PS3.5 6.2), so paths and longer ids are not hashed.
 */
export function uidPseudonymIndex(keys: Iterable<string>, salt: string): Map<string, string> {
  const index = new Map<string, string>();
  for (const key of keys) {
    if (key.length > 64 || /[\s/]/.test(key)) continue;
    const pseudonym = pseudonymizeUid(key, salt);
    if (pseudonym) index.set(pseudonym, key);
  }
  return index;
}

/**
 * Identifies a salt without revealing it: HMAC-SHA256 keyed by the salt. It goes into cache keys
 * (which are stored in plain text), so a new salt gives new pseudonyms instead of cached old ones.
 */
export function saltFingerprint(salt: string): string {
  return createHmac('sha256', salt).update('pipeline pseudonymisation salt').digest('hex');
}

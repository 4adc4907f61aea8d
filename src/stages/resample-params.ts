import { z } from 'zod';

export const classListParam = z
  .union([z.string().min(1), z.array(z.string().min(1)).min(1)])
  .describe('Class name(s) whose rows are resampled, e.g. "No finding"');

/** The classes of a `label:` param as a set. */
export function classSet(label: string | string[]): Set<string> {
  return new Set(typeof label === 'string' ? [label] : label);
}

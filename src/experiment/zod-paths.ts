import type { z } from 'zod';

/** Unwraps optional/default/nullable/pipe wrappers of a zod schema (zod 4 internals, best effort). */
function unwrap(schema: any): any {
  let s = schema;
  for (let i = 0; i < 10 && s?._zod?.def; i++) {
    const def = s._zod.def;
    if (def.innerType) s = def.innerType;
    else if (def.type === 'pipe' && def.in) s = def.in;
    else break;
  }
  return s;
}

/** The keys an object schema accepts at `path` (for "did you mean" on unknown params). */
export function schemaKeysAt(schema: z.ZodType, path: readonly (string | number)[]): string[] {
  let s: any = unwrap(schema);
  for (const key of path) {
    const def = s?._zod?.def;
    if (!def) return [];
    if (def.type === 'object') s = unwrap(def.shape?.[key]);
    else if (def.type === 'array') s = unwrap(def.element);
    else if (def.type === 'record') s = unwrap(def.valueType);
    else return [];
  }
  const def = s?._zod?.def;
  if (def?.type === 'object') return Object.keys(def.shape ?? {});
  if (def?.type === 'union') return [...new Set((def.options as any[]).flatMap((o) => schemaKeysAt(o, [])))];
  return [];
}

import { z } from 'zod';
import { builtinStages } from '../stages/index.ts';
import { experimentFileSchema, foreachSchema, fromSchema, stageSpecSchema } from './schema.ts';

type JsonSchema = Record<string, any>;

const INTERPOLATION = { type: 'string', pattern: '\\$\\{[^}]+\\}', description: 'an interpolation: ${params.x}, ${env.X}, ${each.k}' };

/** Any non-string value may also be written as an interpolation string. */
function allowInterpolation(schema: JsonSchema): JsonSchema {
  if (!schema || typeof schema !== 'object') return schema;
  const out: JsonSchema = Array.isArray(schema) ? schema.map(allowInterpolation) : {};
  if (Array.isArray(schema)) return out;
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'properties' || k === '$defs' || k === 'definitions') out[k] = Object.fromEntries(Object.entries(v as object).map(([pk, pv]) => [pk, allowInterpolation(pv)]));
    else if (['items', 'additionalProperties', 'not'].includes(k) && typeof v === 'object') out[k] = allowInterpolation(v as JsonSchema);
    else if (['anyOf', 'oneOf', 'allOf', 'prefixItems'].includes(k) && Array.isArray(v)) out[k] = v.map(allowInterpolation);
    else out[k] = v;
  }
  const t = out.type;
  const nonString = t !== undefined && t !== 'string' && !(Array.isArray(t) && t.includes('string'));
  if (nonString || out.enum || out.const !== undefined || (t === 'string' && (out.pattern || out.format))) {
    return { anyOf: [out, INTERPOLATION] };
  }
  return out;
}

function toJson(schema: z.ZodType): JsonSchema {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return rest;
}

/**
 * JSON Schema for experiment files, for editors (yaml-language-server): each stage's `with:` is checked
 * against its stage type's params, chosen by `uses:`.
 */
export function experimentJsonSchema(): JsonSchema {
  const base = toJson(experimentFileSchema);
  const spec = toJson(stageSpecSchema).properties;
  const common = { from: toJson(fromSchema), foreach: toJson(foreachSchema), description: { type: 'string' }, resources: spec.resources, queue: spec.queue };
  const variants = [...builtinStages.values()].map((stage) => ({
    type: 'object',
    description: stage.description,
    properties: { uses: { const: stage.name, description: stage.description }, with: allowInterpolation(toJson(stage.params)), ...common },
    required: ['uses'],
    additionalProperties: false,
  }));
  const builtinNames = [...builtinStages.keys()];
  variants.push({
    type: 'object',
    description: 'A stage from your own module (./stages/x.ts), or, in a file that extends a template, an override of a template stage (uses may be omitted).',
    properties: { uses: { type: 'string', not: { enum: builtinNames } } as any, with: { type: 'object' } as any, ...common },
    required: [],
    additionalProperties: false,
  });
  base.properties.stages = {
    type: 'object',
    description: base.properties.stages?.description,
    propertyNames: { pattern: '^[A-Za-z][A-Za-z0-9_-]*$' },
    additionalProperties: { anyOf: [{ type: 'null' }, ...variants] },
  };
  return { $schema: 'http://json-schema.org/draft-07/schema#', $id: 'https://pipeline.dev/schema/experiment.schema.json', title: 'pipeline experiment', ...base };
}

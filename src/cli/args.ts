import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Bad command-line usage: printed with the command's usage line, exit code 2. */
export class UsageError extends Error {}

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, positionals: { min: number; max: number; usage: string }) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (err: any) {
    throw new UsageError(`${err.message}\nusage: ${positionals.usage}`);
  }
  const help = Boolean((parsed.values as any).help);
  if (!help && (parsed.positionals.length < positionals.min || parsed.positionals.length > positionals.max)) {
    throw new UsageError(`expected ${positionals.min === positionals.max ? positionals.min : `${positionals.min}-${positionals.max}`} argument(s), got ${parsed.positionals.length}\nusage: ${positionals.usage}`);
  }
  return { values: parsed.values as { [K in keyof T]?: any } & { help?: boolean }, positionals: parsed.positionals, help };
}

/** Repeated or comma-separated stage lists: `--only a --only b,c`. */
export function list(value: string[] | string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  return (Array.isArray(value) ? value : [value]).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
}

export function positiveInt(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${flag} must be a positive integer, got ${JSON.stringify(value)}`);
  return n;
}

export const storeOption = { store: { type: 'string' } } as const;
export const STORE_HELP = '  --store DIR|URL     store location: a folder (default ./.pipeline, or $PIPELINE_STORE) or mongodb://...';

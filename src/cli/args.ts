import { parseArgs, type ParseArgsConfig } from 'node:util';
import { didYouMean } from '../engine/diagnostics.ts';

/** Bad command-line usage: printed with the command's usage line, exit code 2. */
export class UsageError extends Error {}

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T, positionals: { min: number; max: number; usage: string }) {
  let parsed;
  const all = { ...options, help: { type: 'boolean', short: 'h' } } as const;
  try {
    parsed = parseArgs({ args: argv, options: all, allowPositionals: true, strict: true });
  } catch (err: any) {
    throw new UsageError(`${explainParseError(err, all)}\nusage: ${positionals.usage}`);
  }
  const help = Boolean((parsed.values as any).help);
  if (!help && (parsed.positionals.length < positionals.min || parsed.positionals.length > positionals.max)) {
    throw new UsageError(`expected ${positionals.min === positionals.max ? positionals.min : `${positionals.min}-${positionals.max}`} argument(s), got ${parsed.positionals.length}\nusage: ${positionals.usage}`);
  }
  return { values: parsed.values as { [K in keyof T]?: any } & { help?: boolean }, positionals: parsed.positionals, help };
}

/** Node's parseArgs errors in this CLI's words: an unknown flag gets the closest known one. */
function explainParseError(err: { code?: string; message: string }, options: NonNullable<ParseArgsConfig['options']>): string {
  const flags = Object.entries(options).flatMap(([name, o]) => [`--${name}`, ...(o.short ? [`-${o.short}`] : [])]);
  const unknown = /^Unknown option '([^']+)'/.exec(err.message);
  if (err.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' && unknown) {
    const flag = unknown[1];
    const typed = flag.replace(/^-+/, '');
    // A shortened flag (--dry for --dry-run) is a prefix of the one meant; else the closest by edit distance.
    const prefixed = typed.length >= 2 ? Object.keys(options).filter((name) => name.startsWith(typed)) : [];
    const guess = prefixed.length === 1 ? prefixed[0] : didYouMean(typed, Object.keys(options));
    return `unknown option ${flag}${guess ? `; did you mean --${guess}?` : ''} (options: ${flags.join(', ')})`;
  }
  const missing = /^Option '(-\S+)(?:, (-\S+))? <value>' argument missing/.exec(err.message);
  if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && missing) return `option ${missing[2] ?? missing[1]} needs a value`;
  const noValue = /^Option '(-\S+)(?:, (-\S+))?' does not take an argument/.exec(err.message);
  if (err.code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE' && noValue) return `option ${noValue[2] ?? noValue[1]} takes no value`;
  return err.message;
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
export const STORE_HELP = '  --store DIR|URL     store location: a folder (default: .pipeline in the project folder, the nearest\n                      one up with .pipeline, .git or package.json; or $PIPELINE_STORE) or mongodb://...';

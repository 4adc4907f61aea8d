import { access } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { z } from 'zod';
import { DiagnosticError, didYouMean, type Diagnostic } from '../engine/diagnostics.ts';
import { interpolate, type InterpolationProblem } from '../experiment/interpolate.ts';
import { loadYamlFile } from '../experiment/yaml-source.ts';
import { zodDiagnostics } from '../experiment/zod-diagnostics.ts';
import { redactUrlPasswords } from '../util/redact.ts';

/** The project configuration file, found in the current folder or the nearest parent that has one. */
export const CONFIG_NAME = 'pipeline.config.yaml';

const REMOTE_NAME = /^[A-Za-z][\w-]*$/;
const remoteSchema = z.union([
  z.string().min(1).describe('a folder (absolute, or relative to this file) or mongodb://...'),
  z.object({ url: z.string().min(1), description: z.string().optional() }).strict(),
]);

export const projectConfigSchema = z
  .object({
    remotes: z.record(z.string(), remoteSchema).optional().describe('Remote stores by name: a folder on shared storage or a MongoDB GridFS URL.'),
    default_remote: z.string().optional().describe('The remote push, pull and run --remote use when none is named.'),
  })
  .strict();

export interface ProjectConfig {
  file: string;
  /** Remote names, in file order. */
  remotes: string[];
  /** A remote's location: `${env.X}` substituted (errors located in the file) and folders resolved against the file. */
  location(name: string): string;
  defaultRemote?: string;
}

/** The nearest pipeline.config.yaml at or above `from`. */
export async function findProjectConfig(from = process.cwd()): Promise<string | undefined> {
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    const file = join(dir, CONFIG_NAME);
    if (await access(file).then(() => true, () => false)) return file;
    if (dirname(dir) === dir) return undefined;
  }
}

/** Reads and validates the project config (located errors); undefined when there is none. */
export async function loadProjectConfig(from = process.cwd(), env: Record<string, string | undefined> = process.env): Promise<ProjectConfig | undefined> {
  const file = await findProjectConfig(from);
  if (!file) return undefined;
  const source = await loadYamlFile(file);
  const value = source.value ?? {};
  const checked = projectConfigSchema.safeParse(value);
  if (!checked.success) throw new DiagnosticError(zodDiagnostics(checked.error, { prefix: [], schema: projectConfigSchema, input: value, at: (p, w) => source.locate(p, w), what: CONFIG_NAME }));
  const diags: Diagnostic[] = [];
  const specs = checked.data.remotes ?? {};
  for (const name of Object.keys(specs)) {
    if (!REMOTE_NAME.test(name)) diags.push({ message: `remote name ${JSON.stringify(name)}: names start with a letter and use letters, digits, _ and -`, location: source.locate(['remotes', name], 'key') });
  }
  const def = checked.data.default_remote;
  if (def !== undefined && !(def in specs)) {
    const guess = didYouMean(def, Object.keys(specs));
    diags.push({ message: `default_remote ${def} is not one of the remotes`, location: source.locate(['default_remote']), hint: guess ? `did you mean "${guess}"?` : `remotes: ${Object.keys(specs).join(', ') || '(none)'}` });
  }
  if (diags.length) throw new DiagnosticError(diags);
  return {
    file,
    remotes: Object.keys(specs),
    location(name) {
      const spec = specs[name];
      const path = typeof spec === 'string' ? ['remotes', name] : ['remotes', name, 'url'];
      const problems: InterpolationProblem[] = [];
      const url = String(interpolate(typeof spec === 'string' ? spec : spec.url, { params: {}, env }, problems, path));
      if (problems.length) throw new DiagnosticError(problems.map((p) => ({ message: p.message, location: source.locate(p.path), hint: p.hint })));
      return isUrl(url) || isAbsolute(url) ? url : resolve(dirname(file), url);
    },
    ...(def ? { defaultRemote: def } : {}),
  };
}

export interface RemoteChoice {
  /** The configured name, when the remote came from pipeline.config.yaml. */
  name?: string;
  /** What openStore takes (may hold credentials: never print it). */
  location: string;
  /** For messages: `team (mongodb://user:***@host/db)`. */
  display: string;
}

export class RemoteError extends Error {}

/**
 * The remote to use: `--remote NAME|URL|FOLDER`, else $PIPELINE_REMOTE, else the config's
 * default_remote. A name must be configured; a URL (`mongodb://...`) or a folder path (with a `/`, or
 * starting with `.`) is used as it is.
 */
export function chooseRemote(config: ProjectConfig | undefined, arg: string | undefined, env: Record<string, string | undefined> = process.env): RemoteChoice {
  const wanted = arg ?? env.PIPELINE_REMOTE ?? config?.defaultRemote;
  if (!wanted) throw new RemoteError(`no remote: give --remote NAME|URL, set PIPELINE_REMOTE, or add remotes: and default_remote: to ${config?.file ?? `a ${CONFIG_NAME} at the project root`}`);
  if (config?.remotes.includes(wanted)) {
    const location = config.location(wanted);
    return { name: wanted, location, display: `${wanted} (${redactUrlPasswords(location)})` };
  }
  if (isUrl(wanted) || wanted.includes('/') || wanted.startsWith('.')) {
    const location = isUrl(wanted) ? wanted : resolve(wanted);
    return { location, display: redactUrlPasswords(location) };
  }
  const known = config?.remotes ?? [];
  const guess = didYouMean(wanted, known);
  throw new RemoteError(`no remote named ${wanted}${config ? ` in ${config.file}` : ` (there is no ${CONFIG_NAME})`}${guess ? `; did you mean ${guess}?` : known.length ? ` (remotes: ${known.join(', ')})` : ''}; a folder needs a / (./store) and a database its mongodb:// URL`);
}

function isUrl(s: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(s);
}

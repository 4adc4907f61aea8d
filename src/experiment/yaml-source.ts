import { readdir, readFile } from 'node:fs/promises';
import { basename, dirname, join, relative } from 'node:path';
import { CST, LineCounter, Parser, parseDocument, visit, isMap, isSeq, isPair, isScalar, type Document, type Node, type YAMLError } from 'yaml';
import { DiagnosticError, didYouMean, type SourceLocation } from '../engine/diagnostics.ts';
import { cachedYamlValue, rememberYamlValue } from './yaml-cache.ts';

export type PathKey = string | number;

/** A parsed YAML file that can tell where any value in it came from. */
export interface YamlSource {
  file: string;
  value: unknown;
  /** Location of the node at `path` (of its key, for a mapping entry, with `at: 'key'`), or of its nearest existing ancestor. */
  locate(path: readonly PathKey[], at?: 'key' | 'value'): SourceLocation;
  /** Whether `path` exists in this file. */
  has(path: readonly PathKey[]): boolean;
}

export async function loadYamlFile(file: string): Promise<YamlSource> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err: any) {
    if (err.code === 'ENOENT') throw new DiagnosticError([{ message: `file not found: ${file}`, hint: await nearbyYamlFiles(file) }]);
    throw new DiagnosticError([{ message: `cannot read ${file}: ${err.message}` }]);
  }
  return yamlSource(text, file);
}

/** parseYamlText, with the value of text seen before taken from the parse cache (yaml-cache.ts). */
export async function yamlSource(text: string, file: string): Promise<YamlSource> {
  const cached = await cachedYamlValue(text);
  if (cached) return parsedLater(text, file, cached.value);
  const source = parseYamlText(text, file);
  await rememberYamlValue(text, source.value);
  return source;
}

/** A source whose value is known (cached): its positions are parsed only if something needs locating. */
function parsedLater(text: string, file: string, value: unknown): YamlSource {
  let parsed: YamlSource | undefined;
  const full = () => (parsed ??= parseYamlText(text, file));
  return { file, value, locate: (path, at) => full().locate(path, at), has: (path) => full().has(path) };
}

/** For a file that does not exist: the YAML file beside it the user probably meant (`demo.yml` -> `demo.yaml`). */
async function nearbyYamlFiles(file: string): Promise<string | undefined> {
  let names: string[];
  try {
    names = (await readdir(dirname(file))).filter((n) => /\.ya?ml$/i.test(n));
  } catch {
    return `the folder ${dirname(file)} does not exist either`;
  }
  const stem = (n: string) => n.replace(/\.ya?ml$/i, '');
  const wanted = basename(file);
  const guess = names.find((n) => stem(n) === stem(wanted)) ?? didYouMean(wanted, names);
  if (guess) return `did you mean ${relative(process.cwd(), join(dirname(file), guess))}?`;
  return names.length ? `YAML files there: ${names.sort().join(', ')}` : `there is no YAML file in ${dirname(file)}`;
}

export function parseYamlText(text: string, file: string): YamlSource {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number): SourceLocation => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, col };
  };
  if (doc.errors.length) {
    const openers = unclosedOpeners(text);
    throw new DiagnosticError(
      doc.errors.map((e) => {
        const opener = isUnclosed(e) ? openers.filter((o) => o.offset < e.pos[0]).at(-1) : undefined;
        const message = `YAML syntax error: ${e.message.split('\n')[0]}`;
        if (opener) return { message, location: at(opener.offset), hint: `this ${opener.char} is never closed` };
        const first = e.code === 'DUPLICATE_KEY' ? firstOfDuplicate(doc, e.pos[0]) : undefined;
        if (first) return { message: `YAML syntax error: key "${first.key}" appears twice in the same mapping`, location: at(e.pos[0]), hint: `first at line ${lineCounter.linePos(first.offset).line}; YAML does not let the second override the first: rename one or merge them` };
        return { message, location: at(e.pos[0]), hint: 'check indentation, colons and quotes near this position' };
      }),
    );
  }

  const nodeAt = (path: readonly PathKey[], at: 'key' | 'value' = 'value'): { node: Node | null; depth: number } => {
    let node: unknown = doc.contents;
    let depth = 0;
    for (const [i, key] of path.entries()) {
      let next: unknown;
      if (isMap(node)) {
        const pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(key));
        // A key with an empty value has no value node: point at the key itself.
        next = pair ? (at === 'key' && i === path.length - 1 ? pair.key : (pair.value ?? pair.key)) : undefined;
      } else if (isSeq(node) && /^\d+$/.test(String(key))) next = node.items[Number(key)];
      if (!next) break;
      node = next;
      depth++;
    }
    return { node: (node as Node) ?? null, depth };
  };

  return {
    file,
    value: doc.toJS({ maxAliasCount: 1000 }) ?? {},
    locate(path, which) {
      const { node } = nodeAt(path, which);
      return node?.range ? at(node.range[0]) : { file, line: 1, col: 1 };
    },
    has(path) {
      return nodeAt(path).depth === path.length;
    },
  };
}

/** A missing closing quote or bracket: the parser notices it where it gives up, usually a line or more later. */
function isUnclosed(e: YAMLError): boolean {
  return e.code === 'MISSING_CHAR' || (e.code === 'BAD_INDENT' && /end with a [}\]]/.test(e.message));
}

/** For a duplicate key at `offset`: its text and where the same key first appears in that mapping. */
function firstOfDuplicate(doc: Document, offset: number): { key: string; offset: number } | undefined {
  let found: { key: string; offset: number } | undefined;
  visit(doc, {
    Map(_, map) {
      const keys = map.items.map((p) => (isScalar(p.key) ? p.key : undefined));
      const dup = keys.find((k) => k?.range?.[0] === offset);
      if (!dup) return undefined;
      const earlier = keys.find((k) => k && k !== dup && String(k.value) === String(dup.value));
      if (earlier?.range) found = { key: String(dup.value), offset: earlier.range[0] };
      return visit.BREAK;
    },
  });
  return found;
}

/** Where each flow collection (`{`, `[`) or quoted scalar that is never closed starts, in order. */
function unclosedOpeners(text: string): Array<{ offset: number; char: string }> {
  const out: Array<{ offset: number; char: string }> = [];
  const check = (token: CST.Token | undefined) => {
    if (!token) return;
    if (token.type === 'flow-collection' && !token.end.some((t) => t.source === '}' || t.source === ']')) out.push({ offset: token.offset, char: token.start.source });
    else if (token.type === 'double-quoted-scalar' && !/^"(?:[^"\\]|\\.)*"$/s.test(token.source)) out.push({ offset: token.offset, char: '"' });
    else if (token.type === 'single-quoted-scalar' && !/^'(?:[^']|'')*'$/s.test(token.source)) out.push({ offset: token.offset, char: "'" });
  };
  for (const token of new Parser().parse(text)) {
    if (token.type !== 'document') continue;
    check(token.value);
    CST.visit(token, (item) => {
      check(item.key ?? undefined);
      check(item.value);
    });
  }
  return out.sort((a, b) => a.offset - b.offset);
}

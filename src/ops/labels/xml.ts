/**
 * A small XML reader for annotation files (Pascal VOC): elements, attributes, text, CDATA, comments,
 * processing instructions, a DOCTYPE without internal subset, and the predefined and numeric entities.
 * Every element knows its line, so errors and box issues can point into the file. Namespaces and DTDs
 * are not interpreted.
 */
export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  /** Concatenated character data directly inside this element, entities decoded. */
  text: string;
  /** 1-based line of the start tag. */
  line: number;
}

export class XmlSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`line ${line}, column ${column}: ${message}`);
  }
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const NAME = /[A-Za-z_:][-A-Za-z0-9_:.]*/y;

export function parseXml(text: string): XmlElement {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const position = (at: number) => {
    let line = 1;
    let last = -1;
    for (let k = 0; k < at; k++) {
      if (text.charCodeAt(k) !== 10) continue;
      line++;
      last = k;
    }
    return { line, column: at - last };
  };
  const fail = (message: string, at = i): never => {
    const { line, column } = position(at);
    throw new XmlSyntaxError(message, line, column);
  };
  const decode = (raw: string, at: number) =>
    raw.replace(/&([^;&\s]*);?/g, (whole, name: string, offset: number) => {
      if (!whole.endsWith(';')) return fail(`"&" must start an entity like &amp;`, at + offset);
      if (name.startsWith('#x')) return String.fromCodePoint(parseInt(name.slice(2), 16));
      if (name.startsWith('#')) return String.fromCodePoint(parseInt(name.slice(1), 10));
      return ENTITIES[name] ?? fail(`unknown entity &${name};`, at + offset);
    });
  let lineNo = 1;
  let lineScanned = 0;
  const lineAt = (at: number) => {
    for (; lineScanned < at; lineScanned++) if (text.charCodeAt(lineScanned) === 10) lineNo++;
    return lineNo;
  };
  const skipTo = (marker: string, what: string) => {
    const end = text.indexOf(marker, i);
    if (end < 0) fail(`${what} is not closed (no "${marker}")`);
    const body = text.slice(i, end);
    i = end + marker.length;
    return body;
  };
  const readName = () => {
    NAME.lastIndex = i;
    const m = NAME.exec(text);
    if (!m) return fail('expected a name');
    i += m[0].length;
    return m[0];
  };
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text[i])) i++;
  };

  while (i < text.length) {
    if (text[i] !== '<') {
      const start = i;
      const end = text.indexOf('<', i);
      i = end < 0 ? text.length : end;
      const chunk = text.slice(start, i);
      if (stack.length) stack[stack.length - 1].text += decode(chunk, start);
      else if (chunk.trim()) fail('text outside the root element', start);
      continue;
    }
    if (text.startsWith('<!--', i)) {
      i += 4;
      skipTo('-->', 'comment');
    } else if (text.startsWith('<![CDATA[', i)) {
      i += 9;
      const body = skipTo(']]>', 'CDATA section');
      if (!stack.length) fail('CDATA outside the root element');
      stack[stack.length - 1].text += body;
    } else if (text.startsWith('<?', i)) {
      i += 2;
      skipTo('?>', 'processing instruction');
    } else if (text.startsWith('<!DOCTYPE', i)) {
      i += 9;
      if (text.slice(i, text.indexOf('>', i)).includes('[')) fail('DOCTYPE with an internal subset is not supported');
      skipTo('>', 'DOCTYPE');
    } else if (text[i + 1] === '/') {
      const at = i;
      i += 2;
      const name = readName();
      skipSpace();
      if (text[i] !== '>') fail(`expected ">" to close </${name}`);
      i++;
      const open = stack.pop();
      if (!open) fail(`closing tag </${name}> without an open element`, at);
      if (open!.name !== name) fail(`closing tag </${name}> does not match <${open!.name}> opened on line ${open!.line}`, at);
    } else {
      const at = i;
      i++;
      const element: XmlElement = { name: readName(), attributes: {}, children: [], text: '', line: lineAt(at) };
      for (;;) {
        skipSpace();
        if (text.startsWith('/>', i) || text[i] === '>') break;
        if (i >= text.length) fail(`start tag <${element.name}> is not closed`, at);
        const attr = readName();
        skipSpace();
        if (text[i] !== '=') fail(`attribute ${attr} of <${element.name}> needs a value`);
        i++;
        skipSpace();
        const quote = text[i];
        if (quote !== '"' && quote !== "'") fail(`attribute ${attr} of <${element.name}>: value must be quoted`);
        const end = text.indexOf(quote, i + 1);
        if (end < 0) fail(`attribute ${attr} of <${element.name}>: unterminated value`);
        element.attributes[attr] = decode(text.slice(i + 1, end), i + 1);
        i = end + 1;
      }
      if (stack.length) stack[stack.length - 1].children.push(element);
      else if (root) fail(`a second root element <${element.name}>`, at);
      else root = element;
      if (text[i] === '/') i += 2;
      else {
        i++;
        stack.push(element);
      }
    }
  }
  if (stack.length) fail(`<${stack[stack.length - 1].name}> opened on line ${stack[stack.length - 1].line} is not closed`);
  if (!root) fail('no root element');
  return root!;
}

/** The first child element named `name`, or undefined. */
export function childElement(element: XmlElement, name: string): XmlElement | undefined {
  return element.children.find((c) => c.name === name);
}

/** Trimmed text of the first child named `name`, or undefined when there is no such child. */
export function childText(element: XmlElement, name: string): string | undefined {
  return childElement(element, name)?.text.trim();
}

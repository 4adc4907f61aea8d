/**
 * Search filters written the way MLflow's own search grammar reads them (mlflow/utils/search_utils.py):
 * the value is a quoted token whose quotes are trimmed and whose inside is taken verbatim
 * (`_strip_quotes`): there is no escape character. A value without `'` goes in single quotes (as the
 * MLflow client writes `tags.mlflow.runName = 'x'`); a value with `'` but no `"` goes in double quotes
 * (sqlparse reads it as an identifier, which `_get_value` accepts for tags and params). A value with
 * both cannot be written exactly: the filter becomes a LIKE pattern with `_` for each quote and the
 * caller keeps only exact matches (`exact`).
 */
export interface TagFilter {
  filter: string;
  /** Run this on the returned runs' values when the server filter is wider than equality. */
  exact(value: string | undefined): boolean;
}

export function quoteKey(key: string): string {
  return '`' + key.replace(/`/g, '') + '`';
}

export function quoteValue(value: string): string | undefined {
  if (!value.includes("'")) return `'${value}'`;
  if (!value.includes('"')) return `"${value}"`;
  return undefined;
}

export function tagEquals(key: string, value: string, kind: 'tags' | 'params' = 'tags'): TagFilter {
  const quoted = quoteValue(value);
  const exact = (v: string | undefined) => v === value;
  if (quoted) return { filter: `${kind}.${quoteKey(key)} = ${quoted}`, exact };
  return { filter: `${kind}.${quoteKey(key)} LIKE '${value.replace(/'/g, '_')}'`, exact };
}

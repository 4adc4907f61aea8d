/**
 * The text of anything thrown. Libraries throw more than Errors: dicom-parser throws strings and
 * `{ exception, dataSet }` objects, emscripten codecs throw numbers. A message must never read
 * "[object Object]".
 */
export function errorText(err: unknown, depth = 0): string {
  if (err instanceof Error) return err.message || err.name;
  if (typeof err === 'string') return err || 'empty error';
  if (err === null || err === undefined) return `no error detail (${String(err)})`;
  if (typeof err !== 'object') return `${typeof err} thrown: ${String(err)}`;
  const o = err as Record<string, unknown>;
  if (depth < 3) {
    for (const key of ['message', 'exception', 'error', 'reason']) {
      if (o[key] !== undefined && o[key] !== null && o[key] !== '') return errorText(o[key], depth + 1);
    }
  }
  try {
    const json = JSON.stringify(err, (k, v) => (k === 'dataSet' || k === 'byteArray' ? undefined : v));
    if (json && json !== '{}') return json.length > 300 ? `${json.slice(0, 300)}...` : json;
  } catch {
    // circular or exotic: fall through
  }
  const name = (o.constructor as { name?: string } | undefined)?.name;
  return `${name && name !== 'Object' ? name : 'object'} thrown without a message`;
}

type TypedArrayClass<T> = { new (buffer: ArrayBufferLike, byteOffset: number, length: number): T; BYTES_PER_ELEMENT: number };

/**
 * `count` elements of type `Type` over the first bytes of `bytes`: a view when `bytes` starts at a
 * multiple of the element size, else a copy. (A typed-array view must be aligned; and `Buffer#slice`
 * is a view, not a copy, so copying must not rely on it.)
 */
export function typedView<T>(bytes: Uint8Array, Type: TypedArrayClass<T>, count = Math.floor(bytes.byteLength / Type.BYTES_PER_ELEMENT)): T {
  const size = count * Type.BYTES_PER_ELEMENT;
  if (bytes.byteLength < size) throw new Error(`${bytes.byteLength} bytes hold fewer than ${count} ${Type.BYTES_PER_ELEMENT}-byte values`);
  if (bytes.byteOffset % Type.BYTES_PER_ELEMENT === 0) return new Type(bytes.buffer, bytes.byteOffset, count);
  const copy = new Uint8Array(size);
  copy.set(bytes.subarray(0, size));
  return new Type(copy.buffer, 0, count);
}

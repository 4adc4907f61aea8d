/**
 * The indices of `keys[0..count)` from the largest key down (equal keys: smaller index first), one at a time:
 * a binary heap, so taking the best few hundred of thousands costs a few hundred pops instead of a full sort.
 */
export class DescendingOrder {
  private readonly heap: Uint32Array;
  private size: number;

  constructor(private readonly keys: Float64Array, indices: Uint32Array) {
    this.heap = indices;
    this.size = indices.length;
    for (let i = (this.size >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  get remaining(): number {
    return this.size;
  }

  /** The next index; call only while `remaining > 0`. */
  next(): number {
    const top = this.heap[0];
    this.heap[0] = this.heap[--this.size];
    this.siftDown(0);
    return top;
  }

  /** Whether index a comes before index b. */
  private before(a: number, b: number): boolean {
    const ka = this.keys[a];
    const kb = this.keys[b];
    return ka > kb || (ka === kb && a < b);
  }

  private siftDown(i: number): void {
    const { heap, size } = this;
    const item = heap[i];
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      if (child + 1 < size && this.before(heap[child + 1], heap[child])) child++;
      if (!this.before(heap[child], item)) break;
      heap[i] = heap[child];
      i = child;
    }
    heap[i] = item;
  }
}

/**
 * Gathers single-item requests that arrive close together into batches: a batch runs when it is
 * full or `waitMs` after its first request. Lets per-item cached work (`ctx.eachItem`) still run the
 * model on batches.
 */
export class MicroBatcher<I, O> {
  private queue: Array<{ item: I; resolve: (o: O) => void; reject: (e: unknown) => void }> = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();

  constructor(
    private readonly size: number,
    private readonly run: (items: I[]) => Promise<O[]> | O[],
    private readonly waitMs = 10,
  ) {}

  submit(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.queue.length >= this.size) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.waitMs);
    });
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.queue;
    this.queue = [];
    if (!batch.length) return;
    // Batches run one after another: the model is not re-entrant and memory stays bounded.
    this.running = this.running.then(async () => {
      try {
        const out = await this.run(batch.map((b) => b.item));
        batch.forEach((b, i) => b.resolve(out[i]));
      } catch (err) {
        batch.forEach((b) => b.reject(err));
      }
    });
  }
}

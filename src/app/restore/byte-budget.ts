/**
 * The resume buffer as a counting semaphore over bytes: the restore pipeline holds at most
 * `capacity` bytes between fetch and write, whatever the disk size. Waiters are served first come,
 * first served. A request larger than the whole budget is granted alone (it waits until nothing
 * else is held), so any chunk size makes progress.
 */
export class ByteBudget {
  private held = 0;
  private readonly waiting: { readonly bytes: number; readonly grant: () => void }[] = [];
  /** Most bytes held at once, for tests and the report. */
  peak = 0;

  constructor(readonly capacity: number) {
    if (!(capacity > 0)) throw new RangeError(`a byte budget needs a positive capacity, not ${capacity}`);
  }

  /** Resolves with the bytes granted: `bytes`, or the whole capacity for an oversized request. */
  acquire(bytes: number): Promise<number> {
    const want = Math.min(bytes, this.capacity);
    if (this.waiting.length === 0 && this.held + want <= this.capacity) {
      this.take(want);
      return Promise.resolve(want);
    }
    return new Promise((resolve) => this.waiting.push({ bytes: want, grant: () => resolve(want) }));
  }

  release(granted: number): void {
    this.held -= granted;
    while (this.waiting.length > 0 && this.held + this.waiting[0]!.bytes <= this.capacity) {
      const next = this.waiting.shift()!;
      this.take(next.bytes);
      next.grant();
    }
  }

  private take(bytes: number): void {
    this.held += bytes;
    if (this.held > this.peak) this.peak = this.held;
  }
}

// Bounded priority queue of waiting requests: interactive before async before background, FIFO
// within a class. Removal of a cancelled or timed-out entry is lazy (it is marked dead and skipped
// when it reaches the head), so cancel is O(1) and `size` counts live entries only.

export type Priority = 'interactive' | 'async' | 'background';
export const kPriorities: readonly Priority[] = Object.freeze(['interactive', 'async', 'background']);

export interface QueueEntry {
  /** Maintained by the queue: true while the entry waits in it. Entries removed early stay in the
   * arrays with `queued = false` and are skipped when they reach the head. */
  queued: boolean;
}

/** A FIFO on an array with a head index instead of `Array#shift` (O(1) dequeue, compacted lazily). */
class Fifo<T> {
  // Invariant: items[head..] are the queued entries in arrival order; items[0..head) are consumed.
  items: T[] = [];
  head = 0;

  push(x: T): void {
    this.items.push(x);
  }
  unshift(x: T): void {
    if (this.head > 0) this.items[--this.head] = x;
    else this.items.unshift(x);
  }
  peek(): T | undefined {
    return this.items[this.head];
  }
  shift(): T | undefined {
    if (this.head >= this.items.length) return undefined;
    const x = this.items[this.head++]!;
    if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return x;
  }
}

export class PriorityQueue<T extends QueueEntry> {
  readonly #classes = [new Fifo<T>(), new Fifo<T>(), new Fifo<T>()];
  // Invariant: #size = number of entries with `queued === true` across the three FIFOs.
  #size = 0;
  readonly limit: number;

  constructor(limit: number) {
    this.limit = limit;
  }

  get size(): number {
    return this.#size;
  }

  get full(): boolean {
    return this.#size >= this.limit;
  }

  /** Appends; returns false (and does not enqueue) when the queue is full. */
  push(entry: T, priority: Priority): boolean {
    if (this.#size >= this.limit) return false;
    this.#classes[kPriorities.indexOf(priority)]!.push(entry);
    entry.queued = true;
    this.#size++;
    return true;
  }

  /** Puts a retried entry back at the head of its class (it already waited its turn). Ignores the limit. */
  pushFront(entry: T, priority: Priority): void {
    this.#classes[kPriorities.indexOf(priority)]!.unshift(entry);
    entry.queued = true;
    this.#size++;
  }

  /** Takes a waiting entry out (abort, queue timeout); a no-op for entries not in the queue. */
  remove(entry: T): void {
    if (!entry.queued) return;
    entry.queued = false;
    this.#size--;
  }

  /** The first live entry in priority order, without removing it. */
  peek(): T | undefined {
    for (const c of this.#classes) {
      let x = c.peek();
      while (x !== undefined && !x.queued) {
        c.shift();
        x = c.peek();
      }
      if (x !== undefined) return x;
    }
    return undefined;
  }

  shift(): T | undefined {
    const x = this.peek();
    if (x === undefined) return undefined;
    for (const c of this.#classes) if (c.peek() === x) { c.shift(); break; }
    x.queued = false;
    this.#size--;
    return x;
  }
}

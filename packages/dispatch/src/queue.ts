// Bounded priority queue of waiting requests: interactive before async before background, FIFO
// within a class. Removal of a cancelled or timed-out entry is lazy (it is marked dead and skipped
// when it reaches the head), so cancel is O(1) and `size` counts live entries only. An entry can be
// raised to a more urgent class (a background scan an interactive access joined): it leaves a dead
// slot behind and is inserted into the new class by its arrival number, so it keeps its arrival
// order among that class's entries.

export type Priority = 'interactive' | 'async' | 'background';
export const kPriorities: readonly Priority[] = Object.freeze(['interactive', 'async', 'background']);

export interface QueueEntry {
  /** Maintained by the queue: true while the entry waits in it. Entries removed early stay in the
   * arrays with `queued = false` and are skipped when they reach the head. */
  queued: boolean;
  /** Maintained by the queue: the class the entry waits in (a slot in another class is dead). */
  queueClass: number;
  /** Maintained by the queue: arrival number, set on the first push. */
  arrival: number;
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
  /** Inserts before the first entry that arrived later than `x` (a linear walk from the tail: raises are rare). */
  insertByArrival(x: T & QueueEntry): void {
    let i = this.items.length;
    while (i > this.head && (this.items[i - 1] as T & QueueEntry).arrival > x.arrival) i--;
    this.items.splice(i, 0, x);
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
  #arrivals = 0;
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
    const cls = kPriorities.indexOf(priority);
    this.#classes[cls]!.push(entry);
    entry.queueClass = cls;
    entry.arrival = ++this.#arrivals;
    entry.queued = true;
    this.#size++;
    return true;
  }

  /** Puts a retried entry back at the head of its class (it already waited its turn). Ignores the limit. */
  pushFront(entry: T, priority: Priority): void {
    const cls = kPriorities.indexOf(priority);
    this.#classes[cls]!.unshift(entry);
    entry.queueClass = cls;
    entry.queued = true;
    this.#size++;
  }

  /** Takes a waiting entry out (abort, queue timeout); a no-op for entries not in the queue. */
  remove(entry: T): void {
    if (!entry.queued) return;
    entry.queued = false;
    this.#size--;
  }

  /**
   * Moves a waiting entry to a more urgent class, in its arrival order there. A no-op for entries
   * not in the queue or already at least that urgent. Does not count against the limit.
   */
  raise(entry: T, priority: Priority): void {
    const cls = kPriorities.indexOf(priority);
    if (!entry.queued || entry.queueClass <= cls) return;
    entry.queueClass = cls;
    this.#classes[cls]!.insertByArrival(entry);
  }

  /** The first live entry in priority order, without removing it. */
  peek(): T | undefined {
    for (let cls = 0; cls < this.#classes.length; cls++) {
      const c = this.#classes[cls]!;
      let x = c.peek();
      while (x !== undefined && (!x.queued || x.queueClass !== cls)) {
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

// Earliest-deadline-first scheduler (Envoy's EdfScheduler, source/common/upstream/edf_scheduler.h):
// each entry's deadline is current_time + 1/weight; a pick pops the earliest deadline (ties in
// insertion order), advances current_time to it and re-inserts the entry with a fresh deadline
// computed from the weight at that moment. Over time each host is picked in proportion to its
// weight, spread evenly. Backed by a binary heap in typed arrays: picks allocate nothing.

export class EdfScheduler {
  private deadline: Float64Array;
  private order: Float64Array;
  private item: Int32Array;
  private size = 0;
  private current = 0;
  private seq = 0;

  /** weights[i] > 0 for item i. */
  constructor(weights: ArrayLike<number>) {
    const n = weights.length;
    this.deadline = new Float64Array(n);
    this.order = new Float64Array(n);
    this.item = new Int32Array(n);
    for (let i = 0; i < n; i++) this.push(i, 1 / weights[i]!);
  }

  get length(): number {
    return this.size;
  }

  /** Pop the earliest entry, re-insert it with weight weightOf(item), return the item. */
  pickAndAdd(weightOf: (item: number) => number): number {
    const it = this.item[0]!;
    this.current = this.deadline[0]!;
    const w = weightOf(it);
    // Replace the top in place and sift down: no allocation.
    this.deadline[0] = this.current + 1 / (w > 0 ? w : Number.MIN_VALUE);
    this.order[0] = this.seq++;
    this.siftDown(0);
    return it;
  }

  private push(item: number, delta: number): void {
    let i = this.size++;
    this.deadline[i] = this.current + delta;
    this.order[i] = this.seq++;
    this.item[i] = item;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) break;
      this.swap(i, p);
      i = p;
    }
  }

  private less(a: number, b: number): boolean {
    const da = this.deadline[a]!;
    const db = this.deadline[b]!;
    return da < db || (da === db && this.order[a]! < this.order[b]!);
  }

  private siftDown(i: number): void {
    const n = this.size;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) return;
      const r = l + 1;
      const c = r < n && this.less(r, l) ? r : l;
      if (!this.less(c, i)) return;
      this.swap(i, c);
      i = c;
    }
  }

  private swap(a: number, b: number): void {
    const d = this.deadline[a]!;
    this.deadline[a] = this.deadline[b]!;
    this.deadline[b] = d;
    const o = this.order[a]!;
    this.order[a] = this.order[b]!;
    this.order[b] = o;
    const t = this.item[a]!;
    this.item[a] = this.item[b]!;
    this.item[b] = t;
  }
}

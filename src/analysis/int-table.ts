/**
 * A hash table from non-negative 31-bit integers to integers, in two typed arrays (open
 * addressing, linear probing, deletion by backward shift): the packet-path tracker's index of
 * packets in flight. A Map did the same at about four times the cost per packet (issue 13:
 * report), with a get, a set and a delete for every packet.
 */
export class IntTable {
  private keys: Int32Array;
  private values: Int32Array;
  private mask: number;
  private shift: number;
  private count = 0;

  /** `capacity`: entries it must hold; the table keeps at most half its slots full. */
  constructor(capacity: number) {
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.keys = new Int32Array(size).fill(-1);
    this.values = new Int32Array(size);
    this.mask = size - 1;
    this.shift = 32 - Math.log2(size);
  }

  get size(): number {
    return this.count;
  }

  /** The value of `key`, or -1 (values are never negative where absence matters). */
  get(key: number): number {
    const keys = this.keys;
    for (let i = this.home(key); ; i = (i + 1) & this.mask) {
      const k = keys[i]!;
      if (k === key) return this.values[i]!;
      if (k === -1) return -1;
    }
  }

  set(key: number, value: number): void {
    if ((this.count + 1) * 2 > this.keys.length) this.resize(this.keys.length * 2);
    const keys = this.keys;
    let i = this.home(key);
    for (; keys[i] !== -1; i = (i + 1) & this.mask) {
      if (keys[i] === key) {
        this.values[i] = value;
        return;
      }
    }
    keys[i] = key;
    this.values[i] = value;
    this.count++;
  }

  delete(key: number): void {
    const keys = this.keys;
    const mask = this.mask;
    let i = this.home(key);
    while (keys[i] !== key) {
      if (keys[i] === -1) return;
      i = (i + 1) & mask;
    }
    // Backward shift: move later entries of the run into the hole when their home allows it.
    for (let j = (i + 1) & mask; keys[j] !== -1; j = (j + 1) & mask) {
      const h = this.home(keys[j]!);
      if (((j - h) & mask) >= ((j - i) & mask)) {
        keys[i] = keys[j]!;
        this.values[i] = this.values[j]!;
        i = j;
      }
    }
    keys[i] = -1;
    this.count--;
  }

  /** Every entry, in no order. */
  forEach(fn: (key: number, value: number) => void): void {
    for (let i = 0; i < this.keys.length; i++) if (this.keys[i] !== -1) fn(this.keys[i]!, this.values[i]!);
  }

  private home(key: number): number {
    // Fibonacci hashing: the top bits of one multiply (runs of near keys spread too).
    return Math.imul(key, 0x9e3779b1) >>> this.shift;
  }

  private resize(size: number): void {
    const keys = this.keys;
    const values = this.values;
    this.keys = new Int32Array(size).fill(-1);
    this.values = new Int32Array(size);
    this.mask = size - 1;
    this.shift = 32 - Math.log2(size);
    this.count = 0;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== -1) this.set(keys[i]!, values[i]!);
  }
}

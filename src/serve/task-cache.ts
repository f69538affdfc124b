/**
 * An LRU cache of loaded tasks (materialised modules + head on the device) with a byte budget.
 * `get` returns a cached task (a hit: a Map lookup and a reorder) or loads it; after a load,
 * the least recently used tasks are disposed until the total fits the budget (the task just
 * loaded is always kept, even when it alone is over). Loads of the same key share one promise.
 *
 * The cache does not know what a task is used for: a caller that evicts while another caller
 * still computes with an evicted task would free arrays in use, so the router runs all device
 * work (and therefore every `get`) one batch at a time.
 */

/** What the cache holds: something with a size that can be freed. */
export interface Cacheable {
  /** Its size, counted against the budget. */
  bytes: number;
  /** Free it (called on eviction and `clear`). */
  dispose(): void;
}

/** Counters of a `TaskCache`. */
export interface TaskCacheStats {
  /** Entries held now. */
  entries: number;
  /** Their bytes. */
  bytes: number;
  /** The budget. */
  budgetBytes: number;
  /** Lookups that found the entry loaded. */
  hits: number;
  /** Lookups that loaded it. */
  misses: number;
  /** Entries disposed to fit the budget. */
  evictions: number;
}

/** An LRU cache of loaded tasks with a byte budget (see the module comment). */
export class TaskCache<V extends Cacheable> {
  private readonly entries = new Map<string, V>();
  private readonly loading = new Map<string, Promise<V>>();
  private total = 0;
  private hits = 0;
  private misses = 0;
  private evictions = 0;

  constructor(private readonly budgetBytes: number) {
    if (!(budgetBytes >= 0)) throw new RangeError(`cache budget must be a number of bytes >= 0, got ${budgetBytes}`);
  }

  /** The cached value of `key`, or undefined; it is not marked as used and nothing is counted. */
  peek(key: string): V | undefined {
    return this.entries.get(key);
  }

  /** The value of `key`: cached (a hit) or loaded by `load` (a miss), then the budget enforced. */
  async get(key: string, load: () => Promise<V>): Promise<{
    /** The value. */
    value: V;
    /** Whether it was cached. */
    hit: boolean;
  }> {
    const cached = this.entries.get(key);
    if (cached !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, cached);
      this.hits++;
      return { value: cached, hit: true };
    }
    this.misses++;
    let p = this.loading.get(key);
    if (p === undefined) {
      p = load().then(
        (v) => {
          this.loading.delete(key);
          this.entries.set(key, v);
          this.total += v.bytes;
          this.enforce(key);
          return v;
        },
        (e: unknown) => {
          this.loading.delete(key);
          throw e;
        },
      );
      this.loading.set(key, p);
    }
    return { value: await p, hit: false };
  }

  /** Dispose and forget `key` (a task whose files changed or went away). */
  delete(key: string): boolean {
    const v = this.entries.get(key);
    if (v === undefined) return false;
    this.entries.delete(key);
    this.total -= v.bytes;
    v.dispose();
    return true;
  }

  /** The keys held, least recently used first. */
  keys(): string[] {
    return [...this.entries.keys()];
  }

  /** The counters. */
  stats(): TaskCacheStats {
    return { entries: this.entries.size, bytes: this.total, budgetBytes: this.budgetBytes, hits: this.hits, misses: this.misses, evictions: this.evictions };
  }

  /** Dispose everything. */
  clear(): void {
    for (const v of this.entries.values()) v.dispose();
    this.entries.clear();
    this.total = 0;
  }

  private enforce(keep: string): void {
    for (const [k, v] of this.entries) {
      if (this.total <= this.budgetBytes) break;
      if (k === keep) continue;
      this.entries.delete(k);
      this.total -= v.bytes;
      this.evictions++;
      v.dispose();
    }
  }
}

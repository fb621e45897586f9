/**
 * A bounded memo for the pure text renderers (Markdown → HTML, Markdown → plain text). Rendering a 1 KB body costs
 * about a millisecond (markdown-it, then the sanitiser), and the same body is rendered again for every reader: each
 * item of every listing page, each feed entry, each of 100,000 e-mails. The renderers are pure functions of their
 * input, so remembering recent results changes no output; it only stops paying for the same work twice.
 *
 * Bounded by the characters it holds (inputs plus outputs), least recently used first out, so a flood of distinct
 * bodies costs at most `maxChars` × 2 bytes of memory and never grows the process without end.
 */

export class TextMemo {
  private readonly entries = new Map<string, string>();
  private size = 0;

  constructor(private readonly maxChars: number) {}

  /** The remembered result for `key`, or `render(key)` remembered (unless the pair alone exceeds the bound). */
  get(key: string, render: (key: string) => string): string {
    const found = this.entries.get(key);
    if (found !== undefined) {
      // Most recently used last: Map keeps insertion order.
      this.entries.delete(key);
      this.entries.set(key, found);
      return found;
    }
    const value = render(key);
    const cost = key.length + value.length;
    if (cost > this.maxChars) return value;
    this.entries.set(key, value);
    this.size += cost;
    for (const [oldKey, oldValue] of this.entries) {
      if (this.size <= this.maxChars) break;
      this.entries.delete(oldKey);
      this.size -= oldKey.length + oldValue.length;
    }
    return value;
  }

  /** Entries held (tests, metrics). */
  get count(): number {
    return this.entries.size;
  }
}

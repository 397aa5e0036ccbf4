/**
 * A growable byte buffer for bytes a decoder holds across chunks: one allocation, copied into,
 * doubling up to a cap. Small chunks cost their bytes, not an object each.
 *
 * @internal
 */

const EMPTY = new Uint8Array(0)

/** @internal */
export class ByteBuffer {
  /** The storage; bytes `[0, length)` are held. */
  bytes: Uint8Array = EMPTY
  length = 0

  /**
   * @param initial the first allocation
   * @param limit the most bytes this buffer will ever hold (its capacity never exceeds it)
   */
  constructor(private readonly initial: number, private readonly limit: number) {}

  /** Appends `source[start, end)`; the caller keeps `length + (end - start)` within `limit`. */
  append(source: Uint8Array, start: number, end: number): void {
    const size = end - start
    if (size === 0) return
    const needed = this.length + size
    if (needed > this.bytes.length) this.grow(needed)
    this.bytes.set(start === 0 && end === source.length ? source : source.subarray(start, end), this.length)
    this.length = needed
  }

  private grow(needed: number) {
    const capacity = Math.max(needed, Math.min(this.limit, Math.max(this.initial, this.bytes.length * 2)))
    const bytes = new Uint8Array(capacity)
    if (this.length > 0) bytes.set(this.bytes.subarray(0, this.length))
    this.bytes = bytes
  }

  /** The bytes held, as a view (valid until the next `append` or `clear`). */
  view(): Uint8Array {
    return this.bytes.subarray(0, this.length)
  }

  /** Forgets the bytes held; keeps the allocation unless it grew past `retain`. */
  clear(retain: number): void {
    this.length = 0
    if (this.bytes.length > retain) this.bytes = EMPTY
  }
}

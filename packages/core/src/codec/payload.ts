/**
 * The payload half of a length-prefixed decoder, shared by `lengthDelimited` and
 * `varintDelimited`: a frame wholly inside a chunk is a view of it; one that spans chunks is
 * copied into a buffer of its announced (already bounded) length.
 *
 * @internal
 */
export class PayloadAssembler {
  private frame: Uint8Array | undefined
  private filled = 0
  /** Frames completed so far. */
  frames = 0

  /** Whether a frame spanning chunks is being filled. */
  get filling(): boolean {
    return this.frame !== undefined
  }

  /** Copies what `chunk` holds of the frame being filled; returns the position after it. */
  fill(chunk: Uint8Array, pos: number, out: Array<Uint8Array>): number {
    const frame = this.frame!
    const take = Math.min(frame.length - this.filled, chunk.length - pos)
    frame.set(chunk.subarray(pos, pos + take), this.filled)
    this.filled += take
    if (this.filled === frame.length) {
      out.push(frame)
      this.frames++
      this.frame = undefined
    }
    return pos + take
  }

  /** Starts a frame of `length` bytes at `pos` (after `carried` bytes it already has); returns the position after what was taken. */
  start(chunk: Uint8Array, pos: number, length: number, out: Array<Uint8Array>, carried?: Uint8Array): number {
    if (carried === undefined && chunk.length - pos >= length) {
      out.push(chunk.subarray(pos, pos + length))
      this.frames++
      return pos + length
    }
    this.frame = new Uint8Array(length)
    this.filled = 0
    if (carried !== undefined) {
      this.frame.set(carried)
      this.filled = carried.length
    }
    return this.fill(chunk, pos, out)
  }
}

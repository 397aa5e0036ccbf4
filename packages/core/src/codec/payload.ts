/**
 * The payload half of a length-prefixed decoder, shared by `lengthDelimited` and
 * `varintDelimited`: a frame wholly inside a chunk is a view of it; one that spans chunks is
 * copied into a buffer that grows as its bytes arrive (at most `MAX_UPFRONT_FRAME_ALLOCATION` up
 * front, doubling, never past the announced length), so an announced length costs nothing until
 * its bytes come.
 *
 * @internal
 */
import { MAX_UPFRONT_FRAME_ALLOCATION } from "./constants.js"

const EMPTY = new Uint8Array(0)

/** @internal */
export class PayloadAssembler {
  private frame: Uint8Array = EMPTY
  private filled = 0
  /** Announced length of the frame being filled; -1 when none is. */
  private length = -1
  /** Frames completed so far. */
  frames = 0

  /** Whether a frame spanning chunks is being filled. */
  get filling(): boolean {
    return this.length !== -1
  }

  /** Bytes held for the frame being filled (its buffer's size). */
  get retained(): number {
    return this.frame.length
  }

  /** Hands out a complete frame. */
  emit(frame: Uint8Array, out: Array<Uint8Array>): void {
    out.push(frame)
    this.frames++
  }

  /** Copies what `chunk` holds of the frame being filled; returns the position after it. */
  fill(chunk: Uint8Array, pos: number, out: Array<Uint8Array>): number {
    const take = Math.min(this.length - this.filled, chunk.length - pos)
    this.append(chunk, pos, take)
    if (this.filled === this.length) {
      // The buffer never grows past the announced length, so it is exactly the frame.
      const frame = this.frame
      this.frame = EMPTY
      this.length = -1
      this.emit(frame, out)
    }
    return pos + take
  }

  private append(source: Uint8Array, pos: number, take: number) {
    const needed = this.filled + take
    if (needed > this.frame.length) {
      const grown = new Uint8Array(Math.min(this.length, Math.max(needed, this.frame.length * 2)))
      if (this.filled > 0) grown.set(this.frame.subarray(0, this.filled))
      this.frame = grown
    }
    this.frame.set(source.subarray(pos, pos + take), this.filled)
    this.filled = needed
  }

  /**
   * Starts a frame of `length` bytes at `pos` (after the `carried` bytes it already has, taken
   * from a head that spanned chunks); returns the position after what was taken.
   */
  start(chunk: Uint8Array, pos: number, length: number, out: Array<Uint8Array>, carried?: Uint8Array): number {
    if (carried === undefined && chunk.length - pos >= length) {
      this.emit(chunk.subarray(pos, pos + length), out)
      return pos + length
    }
    this.length = length
    this.filled = 0
    this.frame = new Uint8Array(Math.min(length, Math.max(MAX_UPFRONT_FRAME_ALLOCATION, carried?.length ?? 0)))
    if (carried !== undefined) this.append(carried, 0, carried.length)
    return this.fill(chunk, pos, out)
  }
}

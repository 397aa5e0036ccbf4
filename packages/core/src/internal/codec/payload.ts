/**
 * The payload half of a length-prefixed decoder, shared by `lengthDelimited` and
 * `varintDelimited`: a frame wholly inside a chunk is a view of it; one that spans chunks is
 * copied, and its buffer is allocated as its bytes arrive, so an announced length costs little
 * until the bytes come:
 * - a frame of at most `MAX_UPFRONT_FRAME_ALLOCATION` (64 KiB) gets its exact buffer at once;
 * - a longer one starts in a staging buffer of that size, kept by the decoder and reused; past it,
 *   the frame's own buffer is at most `FRAME_GROWTH_RATIO` (16) times the bytes received, so a
 *   frame of up to 1 MiB is allocated once, exactly, and copying stays within a few percent.
 *
 * @internal
 */
import { FRAME_GROWTH_RATIO, MAX_UPFRONT_FRAME_ALLOCATION } from "./constants.js"

const EMPTY = new Uint8Array(0)

/** @internal */
export class PayloadAssembler {
  /** The buffer being filled: the frame's own, or `staging`. */
  private frame: Uint8Array = EMPTY
  private filled = 0
  /** Announced length of the frame being filled; -1 when none is. */
  private length = -1
  /** Where the first bytes of a long frame go before the frame's buffer is allocated; reused. */
  private staging: Uint8Array = EMPTY
  /** Frames completed so far. */
  frames = 0

  /** Whether a frame spanning chunks is being filled. */
  get filling(): boolean {
    return this.length !== -1
  }

  /** Bytes held across chunks: the frame being filled and the staging buffer. */
  get retained(): number {
    return (this.frame === this.staging ? 0 : this.frame.length) + this.staging.length
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
      const grown = new Uint8Array(Math.min(this.length, Math.max(needed * FRAME_GROWTH_RATIO, this.frame.length * 2)))
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
    if (length <= MAX_UPFRONT_FRAME_ALLOCATION) this.frame = new Uint8Array(length)
    else {
      if (this.staging.length === 0) this.staging = new Uint8Array(MAX_UPFRONT_FRAME_ALLOCATION)
      this.frame = this.staging
    }
    if (carried !== undefined) this.append(carried, 0, carried.length)
    return this.fill(chunk, pos, out)
  }
}

/**
 * Frames prefixed by their length as an unsigned LEB128 varint (protobuf, libp2p), wire
 * compatible with `it-length-prefixed`.
 *
 * @since 0.1.0
 */
import { DEFAULT_MAX_FRAME_LENGTH, MAX_VARINT_BYTES } from "./constants.js"
import { PayloadAssembler } from "./payload.js"
import { decodeError, frameTooLarge } from "./types.js"
import type { Failure, PlainCodec, PlainDecoder } from "./types.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface VarintDelimitedOptions {
  /**
   * Largest payload accepted or written: a whole number >= 0 (or `Infinity`, which means
   * 2^53 − 1). Default 8 MiB. A decoder holds at most this many bytes of a frame, allocated as
   * they arrive.
   */
  readonly maxFrameLength?: number | undefined
}

class VarintDecoder implements PlainDecoder<Uint8Array> {
  // Prefix state survives chunk boundaries without buffering the prefix bytes.
  private length = 0
  private prefixBytes = 0
  private scale = 1
  private readonly payload = new PayloadAssembler()
  private failure: Failure | undefined

  constructor(private readonly maxFrameLength: number) {}

  /** Bytes held across chunks: the frame being filled. @internal */
  get retained(): number {
    return this.payload.retained
  }

  /**
   * The prefix declares more than the bound: exactly `length` when it is complete; when it is not,
   * at least `length` (later bytes only add to it), so no size is claimed.
   */
  private tooLarge(length: number, complete: boolean) {
    const exact = complete && Number.isSafeInteger(length)
    return (this.failure = frameTooLarge({
      reason: "Decode",
      limit: this.maxFrameLength,
      size: exact ? length : undefined,
      declared: true,
      frame: this.payload.frames + 1,
      detail: exact ? undefined : Number.isSafeInteger(length)
        ? `the first ${this.prefixBytes} bytes of the prefix already declare at least ${length} bytes`
        : "the prefix declares more than 2^53 - 1 bytes"
    }))
  }

  decode(chunk: Uint8Array, out: Array<Uint8Array>): Failure | undefined {
    if (this.failure) return this.failure
    let pos = 0
    const end = chunk.length
    while (pos < end) {
      if (this.payload.filling) {
        pos = this.payload.fill(chunk, pos, out)
        continue
      }
      // The prefix, byte by byte.
      const byte = chunk[pos++]!
      this.length += (byte & 0x7f) * this.scale
      this.scale *= 128
      this.prefixBytes++
      if (this.length > this.maxFrameLength) return this.tooLarge(this.length, (byte & 0x80) === 0)
      if (byte & 0x80) {
        if (this.prefixBytes >= MAX_VARINT_BYTES) {
          return (this.failure = decodeError({
            reason: "InvalidVarint",
            frame: this.payload.frames + 1,
            detail: `the length prefix is longer than ${MAX_VARINT_BYTES} bytes`
          }))
        }
        continue
      }
      const length = this.length
      this.length = 0
      this.scale = 1
      this.prefixBytes = 0
      pos = this.payload.start(chunk, pos, length, out)
    }
    return undefined
  }

  end(_out: Array<Uint8Array>): Failure | undefined {
    if (this.failure) return this.failure
    if (this.prefixBytes > 0 || this.payload.filling) {
      return (this.failure = decodeError({ reason: "Truncated", frame: this.payload.frames + 1, detail: "bytes remaining on stream" }))
    }
    return undefined
  }
}

/** Bytes of the unsigned LEB128 encoding of `value`. @internal */
export const varintLength = (value: number): number => {
  let bytes = 1
  while (value >= 128) {
    value = Math.floor(value / 128)
    bytes++
  }
  return bytes
}

/** Writes `value` as unsigned LEB128 at `offset`; returns the offset after it. @internal */
export const writeVarint = (target: Uint8Array, offset: number, value: number): number => {
  while (value >= 128) {
    target[offset++] = (value % 128) | 0x80
    value = Math.floor(value / 128)
  }
  target[offset++] = value
  return offset
}

/** @internal */
export const varintDelimited = (options?: VarintDelimitedOptions): PlainCodec<Uint8Array> => {
  const requested = options?.maxFrameLength ?? DEFAULT_MAX_FRAME_LENGTH
  if (!(requested >= 0) || (requested !== Infinity && !Number.isInteger(requested))) {
    throw new RangeError(`varintDelimited: maxFrameLength must be a whole number >= 0, got ${requested}`)
  }
  const maxFrameLength = Math.min(requested, Number.MAX_SAFE_INTEGER)
  return {
    name: "varintDelimited",
    decoder: () => new VarintDecoder(maxFrameLength),
    encode: (payload) => {
      if (payload.length > maxFrameLength) {
        return frameTooLarge({ reason: "Encode", limit: maxFrameLength, size: payload.length })
      }
      const frame = new Uint8Array(varintLength(payload.length) + payload.length)
      frame.set(payload, writeVarint(frame, 0, payload.length))
      return frame
    }
  }
}

/**
 * Length-prefixed frames with tokio-util `LengthDelimitedCodec` semantics: a 1–8 byte length
 * field at an offset, an adjustment, bytes to skip, either endianness, and a maximum frame
 * length checked on the raw length before any payload is buffered.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import { DecodeError, EncodeError, FrameTooLarge } from "../CodecError.js"
import { DEFAULT_MAX_FRAME_LENGTH } from "./constants.js"
import { PayloadAssembler } from "./payload.js"
import type { Codec, Decoder } from "./types.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface LengthDelimitedOptions {
  /** Bytes in the length field: 1, 2, 3, 4 or 8. Default 4. */
  readonly lengthFieldLength?: 1 | 2 | 3 | 4 | 8 | undefined
  /** Bytes before the length field (decoding only). Default 0. */
  readonly lengthFieldOffset?: number | undefined
  /** Added to the length field to get the payload length (subtracted when encoding). Default 0. */
  readonly lengthAdjustment?: number | undefined
  /** Bytes skipped from the start of a frame before its payload (decoding only). Default offset + field length. */
  readonly numSkip?: number | undefined
  /** Default `"big"`. */
  readonly endian?: "big" | "little" | undefined
  /**
   * Largest frame accepted (the raw length field, before adjustment) or written (the payload).
   * Default 8 MiB; clamped to what the length field can express.
   */
  readonly maxFrameLength?: number | undefined
}

const readLength = (bytes: Uint8Array, at: number, size: number, little: boolean): number => {
  let value = 0
  if (little) {
    for (let i = size - 1; i >= 0; i--) value = value * 256 + bytes[at + i]!
  } else {
    for (let i = 0; i < size; i++) value = value * 256 + bytes[at + i]!
  }
  // Above 2^53 the multiplication above loses bits; `unsafe` values are rejected by the caller.
  return value
}

const writeLength = (bytes: Uint8Array, size: number, value: number, little: boolean) => {
  for (let i = 0; i < size; i++) {
    const byte = value % 256
    value = Math.floor(value / 256)
    bytes[little ? i : size - 1 - i] = byte
  }
}

interface Settings {
  readonly fieldLength: number
  readonly fieldOffset: number
  readonly adjustment: number
  readonly numSkip: number
  readonly headLength: number
  readonly little: boolean
  readonly maxFrameLength: number
  readonly maxFieldValue: number
}

class LengthDelimitedDecoder implements Decoder<Uint8Array> {
  private readonly head: Uint8Array
  private headFill = 0
  private readonly payload = new PayloadAssembler()
  private failure: DecodeError | FrameTooLarge | undefined

  constructor(private readonly settings: Settings) {
    this.head = new Uint8Array(settings.headLength)
  }

  /** Reads the length at `at` in `bytes`; returns the payload length or an error. */
  private payloadLength(bytes: Uint8Array, at: number): number | DecodeError | FrameTooLarge {
    const s = this.settings
    const raw = readLength(bytes, at + s.fieldOffset, s.fieldLength, s.little)
    if (!Number.isSafeInteger(raw)) {
      return (this.failure = new FrameTooLarge({
        reason: "Decode",
        limit: s.maxFrameLength,
        frame: this.payload.frames + 1,
        detail: "the length field is above 2^53 - 1"
      }))
    }
    if (raw > s.maxFrameLength) {
      return (this.failure = new FrameTooLarge({ reason: "Decode", limit: s.maxFrameLength, size: raw, frame: this.payload.frames + 1 }))
    }
    const length = raw + s.adjustment
    if (length < 0 || !Number.isSafeInteger(length)) {
      return (this.failure = new DecodeError({
        reason: "InvalidLength",
        frame: this.payload.frames + 1,
        detail: `length ${raw} overflows after adjustment ${s.adjustment}`
      }))
    }
    return length
  }

  decode(chunk: Uint8Array, out: Array<Uint8Array>): DecodeError | FrameTooLarge | undefined {
    if (this.failure) return this.failure
    const s = this.settings
    let pos = 0
    while (pos < chunk.length) {
      if (this.payload.filling) {
        pos = this.payload.fill(chunk, pos, out)
        continue
      }
      if (this.headFill === 0 && chunk.length - pos >= s.headLength) {
        // The whole head is in this chunk: work in the chunk's coordinates, no copy.
        const length = this.payloadLength(chunk, pos)
        if (typeof length !== "number") return length
        pos = this.payload.start(chunk, pos + s.numSkip, length, out)
        continue
      }
      // The head spans chunks: gather it in `head`.
      const take = Math.min(s.headLength - this.headFill, chunk.length - pos)
      this.head.set(chunk.subarray(pos, pos + take), this.headFill)
      this.headFill += take
      pos += take
      if (this.headFill < s.headLength) return undefined
      this.headFill = 0
      const length = this.payloadLength(this.head, 0)
      if (typeof length !== "number") return length
      // Head bytes past `numSkip` are the payload's first bytes (or, for a short frame, also
      // the start of the next frame, fed back in).
      const carried = this.head.subarray(s.numSkip)
      if (length <= carried.length) {
        out.push(carried.slice(0, length))
        this.payload.frames++
        const rest = carried.slice(length)
        if (rest.length > 0) {
          const error = this.decode(rest, out)
          if (error) return error
        }
        continue
      }
      pos = this.payload.start(chunk, pos, length, out, carried)
    }
    return undefined
  }

  end(_out: Array<Uint8Array>) {
    if (this.failure) return this.failure
    if (this.headFill > 0 || this.payload.filling) {
      return (this.failure = new DecodeError({
        reason: "Truncated",
        frame: this.payload.frames + 1,
        detail: "bytes remaining on stream"
      }))
    }
    return undefined
  }
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const lengthDelimited = (options?: LengthDelimitedOptions): Codec<Uint8Array> => {
  const fieldLength = options?.lengthFieldLength ?? 4
  if (![1, 2, 3, 4, 8].includes(fieldLength)) {
    throw new RangeError(`lengthDelimited: lengthFieldLength must be 1, 2, 3, 4 or 8, got ${fieldLength}`)
  }
  const fieldOffset = options?.lengthFieldOffset ?? 0
  const adjustment = options?.lengthAdjustment ?? 0
  const numSkip = options?.numSkip ?? fieldOffset + fieldLength
  for (const [name, value] of [["lengthFieldOffset", fieldOffset], ["numSkip", numSkip]] as const) {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`lengthDelimited: ${name} must be a whole number >= 0`)
  }
  if (!Number.isSafeInteger(adjustment)) throw new RangeError("lengthDelimited: lengthAdjustment must be a whole number")
  const maxFieldValue = fieldLength === 8 ? Number.MAX_SAFE_INTEGER : 2 ** (8 * fieldLength) - 1
  // tokio-util clamps the maximum to what the field, adjusted, can express.
  const maxFrameLength = Math.max(0, Math.min(options?.maxFrameLength ?? DEFAULT_MAX_FRAME_LENGTH, maxFieldValue + adjustment))
  const settings: Settings = {
    fieldLength,
    fieldOffset,
    adjustment,
    numSkip,
    headLength: Math.max(fieldOffset + fieldLength, numSkip),
    little: options?.endian === "little",
    maxFrameLength,
    maxFieldValue
  }
  return {
    name: "lengthDelimited",
    decoder: () => new LengthDelimitedDecoder(settings),
    encode: (payload) => {
      if (payload.length > maxFrameLength) {
        return Either.left(new FrameTooLarge({ reason: "Encode", limit: maxFrameLength, size: payload.length }))
      }
      const field = payload.length - adjustment
      if (field < 0 || field > maxFieldValue) {
        return Either.left(new EncodeError({
          reason: "InvalidLength",
          detail: `a ${payload.length}-byte payload with adjustment ${adjustment} does not fit the length field`
        }))
      }
      const frame = new Uint8Array(fieldLength + payload.length)
      writeLength(frame, fieldLength, field, settings.little)
      frame.set(payload, fieldLength)
      return Either.right(frame)
    }
  }
}

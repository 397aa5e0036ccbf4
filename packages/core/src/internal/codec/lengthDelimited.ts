/**
 * Length-prefixed frames with tokio-util `LengthDelimitedCodec` semantics: a 1–8 byte length
 * field at an offset, an adjustment, bytes to skip, either endianness, and a maximum checked on
 * the length field before any payload is buffered (by the encoder too, so what one side writes
 * the other accepts).
 *
 * @since 0.1.0
 */
import { DEFAULT_MAX_FRAME_LENGTH, MAX_HEAD_LENGTH } from "./constants.js"
import { PayloadAssembler } from "./payload.js"
import { decodeError, encodeError, frameTooLarge } from "./types.js"
import type { Failure, PlainCodec, PlainDecoder } from "./types.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface LengthDelimitedOptions {
  /** Bytes in the length field: 1, 2, 3, 4 or 8. Default 4. */
  readonly lengthFieldLength?: 1 | 2 | 3 | 4 | 8 | undefined
  /**
   * Bytes before the length field: a whole number, at most 64 KiB with the field. Default 0. The
   * encoder writes them as zeros.
   */
  readonly lengthFieldOffset?: number | undefined
  /** Added to the length field to get the frame length (subtracted when encoding): a safe integer. Default 0. */
  readonly lengthAdjustment?: number | undefined
  /**
   * Bytes skipped from the start of a frame before the bytes it yields: a whole number up to
   * 64 KiB. Default `lengthFieldOffset + lengthFieldLength` (the head is stripped). Skipped bytes
   * past the field are written as zeros; with a smaller `numSkip` the frame keeps the rest of its
   * head, so the encoder takes a value that carries it (its length field must be right) and
   * writes only the `numSkip` bytes before it.
   */
  readonly numSkip?: number | undefined
  /** Default `"big"`. */
  readonly endian?: "big" | "little" | undefined
  /**
   * Largest value of the length field (before adjustment, as tokio-util's decoder checks it),
   * accepted or written: a whole number >= 0 (or `Infinity`). Default 8 MiB; clamped to what the
   * field can hold (and, as tokio-util does, to that plus a negative adjustment). A decoder holds at most `maxFrameLength + max(0, lengthAdjustment)`
   * bytes of a frame, allocated as they arrive.
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

const writeLength = (bytes: Uint8Array, at: number, size: number, value: number, little: boolean) => {
  for (let i = 0; i < size; i++) {
    const byte = value % 256
    value = Math.floor(value / 256)
    bytes[at + (little ? i : size - 1 - i)] = byte
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
}

/**
 * The decoder, tokio's `decode_head` / `decode_data` over chunks: a head wholly inside a chunk is
 * read in place; one that spans chunks is gathered in `head`. A frame takes `numSkip + length`
 * bytes from its start, which may be fewer than the head (tokio semantics: the rest of the head
 * starts the next frame), but never none: a 0-byte frame with `numSkip` 0 is an error, not an
 * endless run of empty frames.
 */
class LengthDelimitedDecoder implements PlainDecoder<Uint8Array> {
  private readonly head: Uint8Array
  private headFill = 0
  private readonly payload = new PayloadAssembler()
  private failure: Failure | undefined

  constructor(private readonly settings: Settings) {
    this.head = new Uint8Array(settings.headLength)
  }

  /** Bytes held across chunks: the head buffer and the frame being filled. @internal */
  get retained(): number {
    return this.head.length + this.payload.retained
  }

  /** Reads the length at `at` in `bytes`; returns the frame length or an error. */
  private frameLength(bytes: Uint8Array, at: number): number | Failure {
    const s = this.settings
    const raw = readLength(bytes, at + s.fieldOffset, s.fieldLength, s.little)
    if (raw > s.maxFrameLength) {
      // Only the head has arrived: the size is what its length field declares.
      return (this.failure = frameTooLarge({
        reason: "Decode",
        limit: s.maxFrameLength,
        size: Number.isSafeInteger(raw) ? raw : undefined,
        declared: true,
        frame: this.payload.frames + 1,
        detail: Number.isSafeInteger(raw) ? undefined : "the length field is above 2^53 - 1"
      }))
    }
    const length = raw + s.adjustment
    if (length < 0 || !Number.isSafeInteger(length)) {
      return (this.failure = decodeError({
        reason: "InvalidLength",
        frame: this.payload.frames + 1,
        detail: `length ${raw} overflows after adjustment ${s.adjustment}`
      }))
    }
    if (length === 0 && s.numSkip === 0) {
      return (this.failure = decodeError({
        reason: "InvalidLength",
        frame: this.payload.frames + 1,
        detail: "an empty frame with numSkip 0 would take no bytes (its length cannot cover its own head)"
      }))
    }
    return length
  }

  decode(chunk: Uint8Array, out: Array<Uint8Array>): Failure | undefined {
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
        const length = this.frameLength(chunk, pos)
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
      const length = this.frameLength(this.head, 0)
      if (typeof length !== "number") return length
      // Head bytes past `numSkip` are the frame's first bytes; a frame no longer than them ends
      // inside the head, and the head bytes after it start the next frame.
      const carried = s.headLength - s.numSkip
      if (length <= carried) {
        this.payload.emit(this.head.slice(s.numSkip, s.numSkip + length), out)
        this.head.copyWithin(0, s.numSkip + length, s.headLength)
        this.headFill = carried - length
        continue
      }
      this.headFill = 0
      pos = this.payload.start(chunk, pos, length, out, this.head.subarray(s.numSkip))
    }
    return undefined
  }

  end(_out: Array<Uint8Array>): Failure | undefined {
    if (this.failure) return this.failure
    if (this.headFill > 0 || this.payload.filling) {
      return (this.failure = decodeError({
        reason: "Truncated",
        frame: this.payload.frames + 1,
        detail: "bytes remaining on stream"
      }))
    }
    return undefined
  }
}

const wholeAtMost = (name: string, value: number, max: number) => {
  if (!Number.isSafeInteger(value) || value < 0 || value > max) {
    throw new RangeError(`lengthDelimited: ${name} must be a whole number from 0 to ${max}, got ${value}`)
  }
}

/** @internal */
export const lengthDelimited = (options?: LengthDelimitedOptions): PlainCodec<Uint8Array> => {
  const fieldLength = options?.lengthFieldLength ?? 4
  if (![1, 2, 3, 4, 8].includes(fieldLength)) {
    throw new RangeError(`lengthDelimited: lengthFieldLength must be 1, 2, 3, 4 or 8, got ${fieldLength}`)
  }
  const fieldOffset = options?.lengthFieldOffset ?? 0
  wholeAtMost("lengthFieldOffset", fieldOffset, MAX_HEAD_LENGTH - fieldLength)
  const fieldEnd = fieldOffset + fieldLength
  const adjustment = options?.lengthAdjustment ?? 0
  if (!Number.isSafeInteger(adjustment)) throw new RangeError(`lengthDelimited: lengthAdjustment must be a safe integer, got ${adjustment}`)
  const numSkip = options?.numSkip ?? fieldEnd
  wholeAtMost("numSkip", numSkip, MAX_HEAD_LENGTH)
  const requested = options?.maxFrameLength ?? DEFAULT_MAX_FRAME_LENGTH
  if (!(requested >= 0) || (requested !== Infinity && !Number.isInteger(requested))) {
    throw new RangeError(`lengthDelimited: maxFrameLength must be a whole number >= 0, got ${requested}`)
  }
  const maxFieldValue = fieldLength === 8 ? Number.MAX_SAFE_INTEGER : 2 ** (8 * fieldLength) - 1
  // The bound is on the field, so it is at most what the field can hold; tokio-util also clamps it
  // to that plus the adjustment, which matters when the adjustment is negative.
  const maxFrameLength = Math.max(0, Math.min(requested, maxFieldValue, maxFieldValue + adjustment))
  const little = options?.endian === "little"
  const settings: Settings = {
    fieldLength,
    fieldOffset,
    adjustment,
    numSkip,
    headLength: Math.max(fieldEnd, numSkip),
    little,
    maxFrameLength
  }
  const invalidLength = (detail: string) => encodeError({ reason: "InvalidLength", detail })
  return {
    name: "lengthDelimited",
    decoder: () => new LengthDelimitedDecoder(settings),
    encode: (value) => {
      const length = value.length
      const frame = new Uint8Array(numSkip + length)
      let field: number
      if (numSkip >= fieldEnd) {
        // The head is stripped: write it (zeros around the field), then the value.
        field = length - adjustment
        if (field < 0) return invalidLength(`a ${length}-byte frame with adjustment ${adjustment} does not fit the length field`)
        if (field > maxFrameLength) return frameTooLarge({ reason: "Encode", limit: maxFrameLength, size: field })
        writeLength(frame, fieldOffset, fieldLength, field, little)
      } else {
        // The frame keeps (part of) its head, so the value carries its own length field.
        if (numSkip + length < fieldEnd) {
          return invalidLength(`the frame keeps its head, so it needs at least ${fieldEnd - numSkip} bytes, got ${length}`)
        }
        frame.set(value, numSkip)
        field = readLength(frame, fieldOffset, fieldLength, little)
        if (field > maxFrameLength) return frameTooLarge({ reason: "Encode", limit: maxFrameLength, size: field })
        if (field + adjustment !== length) {
          return invalidLength(`its length field says ${field}, which with adjustment ${adjustment} is not its length ${length}`)
        }
        return frame
      }
      frame.set(value, numSkip)
      return frame
    }
  }
}

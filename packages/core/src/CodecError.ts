/**
 * The typed errors of codecs: a frame over its size bound, bytes that do not decode, a value
 * that cannot be encoded.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"

/**
 * A frame, line or length prefix is larger than the codec's bound. Raised before the oversized
 * frame is buffered.
 *
 * @since 0.1.0
 * @category errors
 */
export class FrameTooLarge extends Data.TaggedError("FrameTooLarge")<{
  readonly reason: "Decode" | "Encode"
  /** The bound that was exceeded, in bytes. */
  readonly limit: number
  /** The announced or actual size, when it is known. */
  readonly size?: number | undefined
  /** 1-based number of the frame (or line) in the stream. */
  readonly frame?: number | undefined
  readonly detail?: string | undefined
}> {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    const size = this.size === undefined ? "more than" : `${this.size} bytes, more than`
    const where = this.frame === undefined ? "" : ` (frame ${this.frame})`
    return `${this.reason === "Decode" ? "received" : "writing"} ${size} the ${this.limit}-byte limit${where}${
      this.detail ? `: ${this.detail}` : ""
    }`
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export type DecodeErrorReason = "Truncated" | "InvalidUtf8" | "InvalidLength" | "InvalidVarint" | "InvalidJson" | "Schema"

/**
 * Bytes that do not decode: a frame cut off at end of input, invalid UTF-8, a malformed length,
 * JSON that does not parse or a value the schema rejects (`cause` holds the parse issue).
 *
 * @since 0.1.0
 * @category errors
 */
export class DecodeError extends Data.TaggedError("DecodeError")<{
  readonly reason: DecodeErrorReason
  /** 1-based number of the frame (or line) in the stream. */
  readonly frame?: number | undefined
  readonly detail?: string | undefined
  readonly cause?: unknown
}> {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    const where = this.frame === undefined ? "" : ` in frame ${this.frame}`
    return `${this.reason}${where}${this.detail ? `: ${this.detail}` : ""}`
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export type EncodeErrorReason = "InvalidLength" | "Delimiter" | "InvalidJson" | "Schema"

/**
 * A value that the codec cannot write (a line containing the delimiter, a length the field
 * cannot hold, a value the schema rejects).
 *
 * @since 0.1.0
 * @category errors
 */
export class EncodeError extends Data.TaggedError("EncodeError")<{
  readonly reason: EncodeErrorReason
  readonly detail?: string | undefined
  readonly cause?: unknown
}> {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `${this.reason}${this.detail ? `: ${this.detail}` : ""}`
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export type CodecError = FrameTooLarge | DecodeError | EncodeError

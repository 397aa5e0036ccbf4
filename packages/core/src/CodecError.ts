/**
 * The typed errors of codecs: a frame over its size bound, bytes that do not decode, a value
 * that cannot be encoded.
 *
 * @since 0.1.0
 */
import * as Data from "effect/Data"

/**
 * What an error's `frame` number counts: `"line"` for the line-based codecs (`lines`, `ndjson`),
 * `"frame"` (the default) for the others.
 *
 * @since 0.1.0
 * @category models
 */
export type FrameUnit = "frame" | "line"

const where = (error: { readonly frame?: number | undefined; readonly unit?: FrameUnit | undefined }, before: string, after: string) =>
  error.frame === undefined ? "" : `${before}${error.unit ?? "frame"} ${error.frame}${after}`

/**
 * The fields of a `FrameTooLarge`.
 *
 * @since 0.1.0
 * @category models
 */
export interface FrameTooLargeFields {
  readonly reason: "Decode" | "Encode"
  /** The bound that was exceeded, in bytes. */
  readonly limit: number
  /**
   * The size in bytes, when it is known: what a length prefix declared (`declared: true`), or the
   * bytes of the line received (or of the frame being written) otherwise.
   */
  readonly size?: number | undefined
  /**
   * Whether `size` is what a length prefix declared (`lengthDelimited`, `varintDelimited`), before
   * any of the frame's bytes had to arrive, rather than bytes actually received.
   */
  readonly declared?: boolean | undefined
  /** 1-based number of the frame (or line, see `unit`) in the stream. */
  readonly frame?: number | undefined
  /** What `frame` counts: lines for the line-based codecs (`lines`, `ndjson`), frames otherwise. */
  readonly unit?: FrameUnit | undefined
  readonly detail?: string | undefined
}

/**
 * A frame, line or length prefix is larger than the codec's bound. Raised before the oversized
 * frame is buffered. The message says which: "the length prefix declared 1000000 bytes, more than
 * the 8388608-byte limit (frame 3)" when only a prefix announced it, "received 1048577 bytes, ..."
 * when a line's bytes came, "writing ..." when encoding.
 *
 * @since 0.1.0
 * @category errors
 */
export class FrameTooLarge extends Data.TaggedError("FrameTooLarge")<FrameTooLargeFields> {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    const what = this.reason === "Encode" ? "writing" : this.declared ? "the length prefix declared" : "received"
    const size = this.size === undefined ? "more than" : `${this.size} bytes, more than`
    return `${what} ${size} the ${this.limit}-byte limit${where(this, " (", ")")}${this.detail ? `: ${this.detail}` : ""}`
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export type DecodeErrorReason = "Truncated" | "InvalidUtf8" | "InvalidLength" | "InvalidVarint" | "InvalidJson" | "Schema"

/**
 * The fields of a `DecodeError`.
 *
 * @since 0.1.0
 * @category models
 */
export interface DecodeErrorFields {
  readonly reason: DecodeErrorReason
  /** 1-based number of the frame (or line, see `unit`) in the stream. */
  readonly frame?: number | undefined
  /** What `frame` counts: lines for the line-based codecs (`lines`, `ndjson`), frames otherwise. */
  readonly unit?: FrameUnit | undefined
  /** What was wrong; for `Schema`, the formatted schema issue. */
  readonly detail?: string | undefined
  /** For `Schema`, the `SchemaIssue.Issue` itself; for `InvalidJson` and `InvalidUtf8`, what `JSON.parse` or `TextDecoder` threw. */
  readonly cause?: unknown
}

/**
 * Bytes that do not decode: a frame cut off at end of input, invalid UTF-8, a malformed length,
 * JSON that does not parse or a value the schema rejects (`cause` holds the `SchemaIssue.Issue`).
 *
 * @since 0.1.0
 * @category errors
 */
export class DecodeError extends Data.TaggedError("DecodeError")<DecodeErrorFields> {
  /**
   * @since 0.1.0
   */
  override get message(): string {
    return `${this.reason}${where(this, " in ", "")}${this.detail ? `: ${this.detail}` : ""}`
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export type EncodeErrorReason = "InvalidLength" | "Delimiter" | "InvalidUnicode" | "InvalidJson" | "Schema"

/**
 * The fields of an `EncodeError`.
 *
 * @since 0.1.0
 * @category models
 */
export interface EncodeErrorFields {
  readonly reason: EncodeErrorReason
  /** What was wrong; for `Schema`, the formatted schema issue. */
  readonly detail?: string | undefined
  /** For `Schema`, the `SchemaIssue.Issue` itself; for `InvalidJson`, what `JSON.stringify` threw. */
  readonly cause?: unknown
}

/**
 * A value that the codec cannot write so that its decoder gives it back: a line containing the
 * delimiter (or ending in `\r` when `crlf` strips it), a string with a lone surrogate (UTF-8
 * cannot carry it), a length the field cannot hold, a number JSON cannot carry, a value the
 * schema rejects.
 *
 * @since 0.1.0
 * @category errors
 */
export class EncodeError extends Data.TaggedError("EncodeError")<EncodeErrorFields> {
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

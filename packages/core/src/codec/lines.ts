/**
 * Lines: frames separated by a one-byte delimiter (`\n`), with one trailing `\r` stripped,
 * decoded as strict UTF-8 (tokio-util `LinesCodec` semantics, bounded in one chunk as in many).
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import { DecodeError, EncodeError, FrameTooLarge } from "../CodecError.js"
import { DEFAULT_MAX_LINE_LENGTH } from "./constants.js"
import type { Codec, Decoder } from "./types.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface LinesOptions {
  /** Longest line in UTF-8 bytes, without its line break. Default 1 MiB. */
  readonly maxLength?: number | undefined
  /** One ASCII character ending each line. Default `"\n"`. */
  readonly delimiter?: string | undefined
  /** Strip one `\r` before the delimiter. Default `true`. */
  readonly crlf?: boolean | undefined
  /** `"strict"` (default): invalid UTF-8 is a `DecodeError`; `"replace"`: U+FFFD stands in. */
  readonly utf8?: "strict" | "replace" | undefined
}

const CR = 13

/** UTF-8 length of a string, without encoding it. */
const utf8Length = (text: string): number => {
  let bytes = 0
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x80) bytes += 1
    else if (code < 0x800) bytes += 2
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      bytes += 4
      i++
    } else bytes += 3
  }
  return bytes
}
const encoder = new TextEncoder()

class LinesDecoder implements Decoder<string> {
  private pending: Array<Uint8Array> = []
  private pendingLength = 0
  private line = 0
  private failure: DecodeError | FrameTooLarge | undefined
  private readonly text: TextDecoder

  constructor(
    private readonly maxLength: number,
    private readonly delimiter: number,
    private readonly delimiterText: string,
    private readonly crlf: boolean,
    fatal: boolean
  ) {
    this.text = new TextDecoder("utf-8", { fatal, ignoreBOM: true })
  }

  private tooLong(size?: number) {
    this.pending = []
    this.pendingLength = 0
    return (this.failure = new FrameTooLarge({ reason: "Decode", limit: this.maxLength, size, frame: this.line + 1 }))
  }

  // A `\r` may still be stripped, so one byte over the bound is not yet too long.
  private allowed(length: number): boolean {
    return length <= this.maxLength || (this.crlf && length === this.maxLength + 1)
  }

  /** The length of a complete line of `length` bytes ending at `end` in `bytes`, without its `\r`. */
  private contentLength(bytes: Uint8Array, end: number, length: number): number {
    return this.crlf && length > 0 && bytes[end - 1] === CR ? length - 1 : length
  }

  private finish(bytes: Uint8Array, out: Array<string>): DecodeError | FrameTooLarge | undefined {
    const length = this.contentLength(bytes, bytes.length, bytes.length)
    if (length > this.maxLength) return this.tooLong(length)
    this.line++
    try {
      out.push(this.text.decode(length === bytes.length ? bytes : bytes.subarray(0, length)))
    } catch (cause) {
      return (this.failure = new DecodeError({ reason: "InvalidUtf8", frame: this.line, cause }))
    }
    return undefined
  }

  private takePending(tail: Uint8Array): Uint8Array {
    const joined = new Uint8Array(this.pendingLength + tail.length)
    let offset = 0
    for (const part of this.pending) {
      joined.set(part, offset)
      offset += part.length
    }
    joined.set(tail, offset)
    this.pending = []
    this.pendingLength = 0
    return joined
  }

  private finishInChunk(chunk: Uint8Array, start: number, end: number, out: Array<string>) {
    const length = this.contentLength(chunk, end, end - start)
    if (length > this.maxLength) return this.tooLong(length)
    return this.finish(chunk.subarray(start, end), out)
  }

  /** Pushes the lines of `text`, checking each against the bound. */
  private pushLines(text: string, out: Array<string>) {
    const parts = text.split(this.delimiterText)
    // A UTF-16 unit is at most 3 UTF-8 bytes: lines this short cannot be over the bound.
    const safeUnits = Math.floor(this.maxLength / 3)
    for (let i = 0; i < parts.length; i++) {
      let line = parts[i]!
      if (line.length > safeUnits) {
        const bytes = utf8Length(line)
        const length = this.crlf && line.endsWith("\r") ? bytes - 1 : bytes
        if (length > this.maxLength) return this.tooLong(length)
      }
      if (this.crlf && line.length > 0 && line.charCodeAt(line.length - 1) === CR) line = line.slice(0, -1)
      this.line++
      out.push(line)
    }
    return undefined
  }

  decode(chunk: Uint8Array, out: Array<string>) {
    if (this.failure) return this.failure
    const delimiter = this.delimiter
    let start = 0
    let end = chunk.indexOf(delimiter)
    if (end !== -1 && this.pendingLength > 0) {
      if (!this.allowed(this.pendingLength + end)) return this.tooLong(this.pendingLength + end)
      // `finish` checks the exact length once the pending part and this one are joined.
      const error = this.finish(this.takePending(chunk.subarray(0, end)), out)
      if (error) return error
      start = end + 1
      end = chunk.indexOf(delimiter, start)
    }
    // The whole lines inside this chunk are decoded with one TextDecoder call and split, which
    // is several times faster than a call per line. The delimiter byte never occurs inside a
    // UTF-8 sequence, so the split is exact.
    const last = end === -1 ? -1 : chunk.lastIndexOf(delimiter)
    if (last !== -1) {
      let text: string | undefined
      try {
        text = this.text.decode(chunk.subarray(start, last))
      } catch {
        // Invalid UTF-8 somewhere: decode line by line to name the line.
      }
      if (text === undefined) {
        while (end !== -1) {
          const error = this.finishInChunk(chunk, start, end, out)
          if (error) return error
          start = end + 1
          end = chunk.indexOf(delimiter, start)
        }
      } else {
        const error = this.pushLines(text, out)
        if (error) return error
        start = last + 1
      }
    }
    const rest = chunk.length - start
    if (rest > 0) {
      if (!this.allowed(this.pendingLength + rest)) return this.tooLong()
      this.pending.push(chunk.slice(start))
      this.pendingLength += rest
    }
    return undefined
  }

  end(out: Array<string>) {
    if (this.failure) return this.failure
    if (this.pendingLength === 0) return undefined
    // The unterminated tail is a line (tokio `decode_eof`).
    return this.finish(this.takePending(new Uint8Array(0)), out)
  }
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const lines = (options?: LinesOptions): Codec<string> => {
  const maxLength = options?.maxLength ?? DEFAULT_MAX_LINE_LENGTH
  if (!(maxLength >= 0)) throw new RangeError(`lines: maxLength must be at least 0, got ${maxLength}`)
  const delimiterText = options?.delimiter ?? "\n"
  const delimiter = delimiterText.charCodeAt(0)
  if (delimiterText.length !== 1 || delimiter > 0x7f) {
    throw new RangeError(`lines: the delimiter must be one ASCII character, got ${JSON.stringify(delimiterText)}`)
  }
  const crlf = options?.crlf ?? true
  const fatal = (options?.utf8 ?? "strict") === "strict"
  return {
    name: "lines",
    decoder: () => new LinesDecoder(maxLength, delimiter, delimiterText, crlf, fatal),
    encode: (line) => {
      if (line.indexOf(delimiterText) !== -1) {
        return Either.left(new EncodeError({ reason: "Delimiter", detail: "the line contains the delimiter" }))
      }
      const bytes = encoder.encode(line + delimiterText)
      if (bytes.length - 1 > maxLength) {
        return Either.left(new FrameTooLarge({ reason: "Encode", limit: maxLength, size: bytes.length - 1 }))
      }
      return Either.right(bytes)
    }
  }
}

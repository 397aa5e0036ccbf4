/**
 * Lines: frames separated by a one-byte delimiter (`\n`), with one trailing `\r` stripped,
 * decoded as strict UTF-8 (tokio-util `LinesCodec` semantics, bounded in one chunk as in many).
 *
 * @since 0.1.0
 */
import { ByteBuffer } from "./buffer.js"
import { DEFAULT_MAX_LINE_LENGTH, INITIAL_PENDING_CAPACITY, MAX_RETAINED_CAPACITY } from "./constants.js"
import { decodeError, encodeError, frameTooLarge } from "./types.js"
import type { Failure, PlainCodec, PlainDecoder } from "./types.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface LinesOptions {
  /**
   * Longest line in bytes as received (before any U+FFFD replacement), without its line break:
   * a whole number >= 0. Default 1 MiB. A decoder holds at most this many bytes (one more with
   * `crlf`, for a `\r` that may be stripped), allocated as they arrive.
   */
  readonly maxLength?: number | undefined
  /** One ASCII character ending each line. Default `"\n"`. */
  readonly delimiter?: string | undefined
  /** Strip one `\r` before the delimiter (and the encoder refuses a line ending in `\r`). Default `true`. */
  readonly crlf?: boolean | undefined
  /** `"strict"` (default): invalid UTF-8 is a `DecodeError`; `"replace"`: U+FFFD stands in. */
  readonly utf8?: "strict" | "replace" | undefined
}


const CR = 13
const encoder = new TextEncoder()

/** Whether `text` has no lone surrogate (which UTF-8 cannot carry). */
const isWellFormed: (text: string) => boolean =
  typeof (String.prototype as { isWellFormed?: unknown }).isWellFormed === "function"
    ? (text) => (text as unknown as { isWellFormed(): boolean }).isWellFormed()
    : (text) => !/\p{Cs}/u.test(text)

/**
 * What a line becomes, for a codec built on lines (`ndjson`): pushes its value(s) to `out` or
 * returns why the line is bad; `number` is its 1-based line number. Called in the decoder's own
 * loop, so the lines of a chunk are mapped as they are split, with no array of them in between.
 *
 * @internal
 */
export type LineMap<A> = (line: string, number: number, out: Array<A>) => Failure | undefined

/**
 * What the decoded text of several complete lines (joined by the delimiter, each with any `\r`)
 * becomes in one step, before the lines are mapped one by one (`ndjson` parses them with one
 * `JSON.parse`): the number of lines it took (all of them, their values pushed to `out`), a
 * failure (the values of the lines before it pushed), or `undefined` when it does not apply
 * (nothing pushed; the lines then go through the `LineMap`). `first` is the number of its first line.
 *
 * @internal
 */
export type TextMap<A> = (text: string, first: number, out: Array<A>) => number | Failure | undefined

/**
 * The decoder. The bound is checked on the bytes of a line before it is decoded, the same way
 * whether the line came in one chunk or many, so every way of splitting the input gives the same
 * lines or the same error. Bytes of an unfinished line are copied into one growable buffer. Each
 * line is pushed as it is, or through `map` (then the first line it refuses stops the decoder,
 * after the values of the lines before it); the lines one chunk completes go through `batch`
 * first, when there is one, and through `map` only when it does not apply.
 */
class LinesDecoder<A> implements PlainDecoder<A> {
  private readonly pending: ByteBuffer
  private line = 0
  private failure: Failure | undefined
  private readonly text: TextDecoder
  /** Most bytes of an unfinished line: `maxLength`, one more for a `\r` that may be stripped. */
  private readonly hold: number

  constructor(
    private readonly maxLength: number,
    private readonly delimiter: number,
    private readonly delimiterText: string,
    private readonly crlf: boolean,
    fatal: boolean,
    private readonly map: LineMap<A> | undefined,
    private readonly batch: TextMap<A> | undefined
  ) {
    this.text = new TextDecoder("utf-8", { fatal, ignoreBOM: true })
    this.hold = crlf ? maxLength + 1 : maxLength
    this.pending = new ByteBuffer(Math.min(INITIAL_PENDING_CAPACITY, this.hold), this.hold)
  }

  /** Bytes held across chunks (the buffer of the unfinished line). @internal */
  get retained(): number {
    return this.pending.bytes.length
  }

  private tooLong(size?: number) {
    this.pending.clear(0)
    return (this.failure = frameTooLarge({ reason: "Decode", limit: this.maxLength, size, frame: this.line + 1, unit: "line" }))
  }

  /** Length of the line `bytes[start, end)` without a `\r` that is stripped. */
  private contentLength(bytes: Uint8Array, start: number, end: number): number {
    return this.crlf && end > start && bytes[end - 1] === CR ? end - start - 1 : end - start
  }

  /** Decodes the complete line `bytes[start, end)`, whose length is within the bound. */
  private finish(bytes: Uint8Array, start: number, end: number, out: Array<A>): Failure | undefined {
    const stop = start + this.contentLength(bytes, start, end)
    this.line++
    let line: string
    try {
      line = this.text.decode(bytes.subarray(start, stop))
    } catch (cause) {
      return (this.failure = decodeError({ reason: "InvalidUtf8", frame: this.line, unit: "line", cause }))
    }
    if (this.map === undefined) {
      out.push(line as A)
      return undefined
    }
    const failure = this.map(line, this.line, out)
    return failure && (this.failure = failure)
  }

  /**
   * Pushes the lines of `chunk[start, end)`, where `end` is a delimiter and no line is over the
   * bound. They are decoded with one TextDecoder call and split, several times faster than a call
   * per line; the delimiter byte never occurs inside a UTF-8 sequence (nor is it swallowed by a
   * replacement), so the split is exact.
   */
  private pushLines(chunk: Uint8Array, start: number, end: number, out: Array<A>): Failure | undefined {
    let text: string | undefined
    try {
      text = this.text.decode(chunk.subarray(start, end))
    } catch {
      // Invalid UTF-8 somewhere: decode line by line to name the line.
      for (let from = start; from <= end;) {
        let to = chunk.indexOf(this.delimiter, from)
        if (to === -1 || to > end) to = end
        const error = this.finish(chunk, from, to, out)
        if (error) return error
        from = to + 1
      }
      return undefined
    }
    if (this.map === undefined) return this.pushText(text, out as Array<string>)
    if (this.batch !== undefined) {
      const done = this.batch(text, this.line + 1, out)
      if (typeof done === "number") {
        this.line += done
        return undefined
      }
      if (done !== undefined) return (this.failure = done)
    }
    return this.mapText(text, this.map, out)
  }

  /** Pushes the lines of decoded `text` (a small method of its own: the hot loop, kept optimizable). */
  private pushText(text: string, out: Array<string>): undefined {
    const parts = text.split(this.delimiterText)
    for (let i = 0; i < parts.length; i++) {
      let line = parts[i]!
      if (this.crlf && line.length > 0 && line.charCodeAt(line.length - 1) === CR) line = line.slice(0, -1)
      this.line++
      out.push(line)
    }
    return undefined
  }

  /** Maps the lines of decoded `text`, each as it is cut; stops at the first it refuses. */
  private mapText(text: string, map: LineMap<A>, out: Array<A>): Failure | undefined {
    const delimiter = this.delimiterText
    const crlf = this.crlf
    let start = 0
    for (;;) {
      const end = text.indexOf(delimiter, start)
      const stop = end === -1 ? text.length : end
      const line = crlf && stop > start && text.charCodeAt(stop - 1) === CR ? text.slice(start, stop - 1) : text.slice(start, stop)
      const failure = map(line, ++this.line, out)
      if (failure) return (this.failure = failure)
      if (end === -1) return undefined
      start = end + 1
    }
  }

  /** Holds `chunk[start..]`, the start of a line, unless that makes it too long. */
  private keep(chunk: Uint8Array, start: number): Failure | undefined {
    const rest = chunk.length - start
    if (rest === 0) return undefined
    if (this.pending.length + rest > this.hold) return this.tooLong()
    this.pending.append(chunk, start, chunk.length)
    return undefined
  }

  decode(chunk: Uint8Array, out: Array<A>): Failure | undefined {
    if (this.failure) return this.failure
    const delimiter = this.delimiter
    let start = 0
    let end = chunk.indexOf(delimiter)
    if (end === -1) return this.keep(chunk, 0)
    if (this.pending.length > 0) {
      // The held bytes and the start of this chunk are one line.
      if (this.pending.length + end > this.hold) {
        const last = end > 0 ? chunk[end - 1] : this.pending.bytes[this.pending.length - 1]
        return this.tooLong(this.pending.length + end - (this.crlf && last === CR ? 1 : 0))
      }
      this.pending.append(chunk, 0, end)
      const bytes = this.pending.view()
      const length = this.contentLength(bytes, 0, bytes.length)
      if (length > this.maxLength) return this.tooLong(length)
      const error = this.finish(bytes, 0, bytes.length, out)
      this.pending.clear(MAX_RETAINED_CAPACITY)
      if (error) return error
      start = end + 1
      end = chunk.indexOf(delimiter, start)
    }
    if (end !== -1) {
      const last = chunk.lastIndexOf(delimiter)
      if (last - start > this.maxLength) {
        // Some line may be over the bound: find the first, after the lines before it.
        for (let from = start, to = end;; from = to + 1, to = chunk.indexOf(delimiter, from)) {
          const length = this.contentLength(chunk, from, to)
          if (length > this.maxLength) {
            const error = from > start ? this.pushLines(chunk, start, from - 1, out) : undefined
            return error ?? this.tooLong(length)
          }
          if (to === last) break
        }
      }
      const error = this.pushLines(chunk, start, last, out)
      if (error) return error
      start = last + 1
    }
    return this.keep(chunk, start)
  }

  end(out: Array<A>): Failure | undefined {
    if (this.failure) return this.failure
    if (this.pending.length === 0) return undefined
    // The unterminated tail is a line (tokio `decode_eof`).
    const bytes = this.pending.view()
    const length = this.contentLength(bytes, 0, bytes.length)
    if (length > this.maxLength) return this.tooLong(length)
    const error = this.finish(bytes, 0, bytes.length, out)
    this.pending.clear(0)
    return error
  }
}

/**
 * Lines whose every line becomes a value through `map` (the decoder of a codec built on lines,
 * such as `ndjson`), with the options, bounds and errors of `lines`.
 *
 * @internal
 */
export const mappedLinesDecoder = <A>(
  options: LinesOptions | undefined,
  map: LineMap<A>,
  batch?: TextMap<A>
): () => PlainDecoder<A> => {
  const settings = linesSettings(options)
  return () => new LinesDecoder(settings.maxLength, settings.delimiter, settings.delimiterText, settings.crlf, settings.fatal, map, batch)
}

const linesSettings = (options: LinesOptions | undefined) => {
  const maxLength = options?.maxLength ?? DEFAULT_MAX_LINE_LENGTH
  if (!(maxLength >= 0) || (maxLength !== Infinity && !Number.isInteger(maxLength))) {
    throw new RangeError(`lines: maxLength must be a whole number >= 0, got ${maxLength}`)
  }
  const delimiterText = options?.delimiter ?? "\n"
  const delimiter = delimiterText.charCodeAt(0)
  if (delimiterText.length !== 1 || delimiter > 0x7f) {
    throw new RangeError(`lines: the delimiter must be one ASCII character, got ${JSON.stringify(delimiterText)}`)
  }
  const crlf = options?.crlf ?? true
  const fatal = (options?.utf8 ?? "strict") === "strict"
  return { maxLength, delimiter, delimiterText, crlf, fatal }
}

/** @internal */
export const lines = (options?: LinesOptions): PlainCodec<string> => {
  const { crlf, delimiter, delimiterText, fatal, maxLength } = linesSettings(options)
  return {
    name: "lines",
    decoder: () => new LinesDecoder<string>(maxLength, delimiter, delimiterText, crlf, fatal, undefined, undefined),
    encode: (line) => {
      if (line.indexOf(delimiterText) !== -1) {
        return encodeError({ reason: "Delimiter", detail: "the line contains the delimiter" })
      }
      if (crlf && line.charCodeAt(line.length - 1) === CR) {
        return encodeError({ reason: "Delimiter", detail: "the line ends in \\r, which the decoder strips (crlf)" })
      }
      if (!isWellFormed(line)) {
        return encodeError({ reason: "InvalidUnicode", detail: "the line has a lone surrogate, which UTF-8 cannot carry" })
      }
      const bytes = encoder.encode(line + delimiterText)
      // The bound is on the line without its (one-byte) delimiter, as the decoder counts it: a
      // line of exactly `maxLength` bytes is written, as it is read.
      const size = bytes.length - 1
      if (size > maxLength) return frameTooLarge({ reason: "Encode", limit: maxLength, size })
      return bytes
    }
  }
}

/**
 * JSON values checked by an Effect `Schema`, over any framing (`json`) or one per line
 * (`ndjson`). A bad message is a `DecodeError` carrying the parse issue and its frame (or line)
 * number.
 *
 * @since 0.1.0
 */
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import { DecodeError, EncodeError } from "../../CodecError.js"
import type { CodecError, FrameUnit } from "../../CodecError.js"
import { lengthDelimited } from "./lengthDelimited.js"
import { lines } from "./lines.js"
import type { LinesOptions } from "./lines.js"
import type { Codec, Decoder } from "./types.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface JsonOptions {
  /** The codec that cuts the byte stream into one frame per JSON value. Default `lengthDelimited()`. */
  readonly framing?: Codec<Uint8Array> | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface NdjsonOptions extends Omit<LinesOptions, "delimiter"> {
  /**
   * Lines that are empty or only white space: `"skip"` (default; they still count for line
   * numbers) or `"error"` (a `DecodeError`, as `JSON.parse("")` would be).
   */
  readonly blankLines?: "skip" | "error" | undefined
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })
const encoder = new TextEncoder()
const isBlank = /^\s*$/

/** A RangeError is what V8 throws when the stack overflows (on a value nested deep enough). */
const isStackOverflow = (cause: unknown) => cause instanceof RangeError

/**
 * The parse issue as text. Printing it recurses into the value, which for one nested thousands
 * deep overflows the stack; the summary then says so instead.
 */
const formatIssue = (issue: ParseResult.ParseIssue): string => {
  try {
    return ParseResult.TreeFormatter.formatIssueSync(issue)
  } catch (cause) {
    if (!isStackOverflow(cause)) throw cause
    return `${"ast" in issue ? `Expected ${String(issue.ast)}, got ` : ""}a value nested too deeply to print`
  }
}

/** Parses and validates one JSON text; `frame` is its 1-based number, counting `unit`s. */
const makeParse = <A, I>(schema: Schema.Schema<A, I, never>, unit: FrameUnit) => {
  const validate = Schema.decodeUnknownEither(schema)
  return (text: string, frame: number): A | DecodeError => {
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (cause) {
      return new DecodeError({ reason: "InvalidJson", frame, unit, cause, detail: (cause as Error).message })
    }
    let result: Either.Either<A, ParseResult.ParseError>
    try {
      result = validate(json)
    } catch (cause) {
      // A recursive schema checking a value nested deeper than the stack; anything else is a bug.
      if (!isStackOverflow(cause)) throw cause
      return new DecodeError({ reason: "Schema", frame, unit, cause, detail: "the value is nested too deeply to check" })
    }
    if (Either.isRight(result)) return result.right
    return new DecodeError({ reason: "Schema", frame, unit, cause: result.left.issue, detail: formatIssue(result.left.issue) })
  }
}

/**
 * Whether JSON.stringify wrote `null` for something that is not null: a number JSON cannot carry
 * (NaN, ±Infinity), or an array element with no JSON form (`undefined`, a function, a symbol).
 * Only called when the text contains "null", so the common case costs one `indexOf`.
 */
const hasLossyNull = (value: unknown): boolean => {
  let lossy = false
  JSON.stringify(value, function(this: unknown, _key, v: unknown) {
    if (typeof v === "number" ? !Number.isFinite(v) : Array.isArray(this) && (v === undefined || typeof v === "function" || typeof v === "symbol")) {
      lossy = true
    }
    return v
  })
  return lossy
}

const makeStringify = <A, I>(schema: Schema.Schema<A, I, never>) => {
  const encode = Schema.encodeEither(schema)
  return (value: A): Either.Either<string, EncodeError> => {
    const result = encode(value)
    if (Either.isLeft(result)) {
      return Either.left(new EncodeError({ reason: "Schema", cause: result.left.issue, detail: formatIssue(result.left.issue) }))
    }
    let text: string | undefined
    try {
      text = JSON.stringify(result.right)
    } catch (cause) {
      return Either.left(new EncodeError({ reason: "InvalidJson", cause, detail: (cause as Error).message }))
    }
    if (text === undefined) return Either.left(new EncodeError({ reason: "InvalidJson", detail: "the value has no JSON form" }))
    if (text.indexOf("null") !== -1 && hasLossyNull(result.right)) {
      return Either.left(new EncodeError({
        reason: "InvalidJson",
        detail: "the value holds a number JSON cannot carry (NaN, Infinity) or an undefined array element; JSON would write null"
      }))
    }
    return Either.right(text)
  }
}

class MappedDecoder<F, A> implements Decoder<A> {
  private readonly frames: Array<F> = []
  private count = 0
  private failure: CodecError | undefined

  constructor(private readonly inner: Decoder<F>, private readonly map: (frame: F, number: number, out: Array<A>) => CodecError | undefined) {}

  /** Bytes held across chunks, by the framing decoder. @internal */
  get retained(): number {
    return (this.inner as { readonly retained?: number }).retained ?? 0
  }

  private drain(error: CodecError | undefined, out: Array<A>): CodecError | undefined {
    const frames = this.frames
    for (let i = 0; i < frames.length; i++) {
      const mapped = this.map(frames[i]!, ++this.count, out)
      if (mapped) {
        frames.length = 0
        return (this.failure = mapped)
      }
    }
    frames.length = 0
    if (error) this.failure = error
    return error
  }

  decode(chunk: Uint8Array, out: Array<A>) {
    if (this.failure) return this.failure
    return this.drain(this.inner.decode(chunk, this.frames), out)
  }

  end(out: Array<A>) {
    if (this.failure) return this.failure
    return this.drain(this.inner.end(this.frames), out)
  }
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const json = <A, I>(schema: Schema.Schema<A, I, never>, options?: JsonOptions): Codec<A> => {
  const framing = options?.framing ?? lengthDelimited()
  const parse = makeParse(schema, "frame")
  const stringify = makeStringify(schema)
  return {
    name: `json(${framing.name})`,
    decoder: () =>
      new MappedDecoder<Uint8Array, A>(framing.decoder(), (frame, number, out) => {
        let text: string
        try {
          text = utf8.decode(frame)
        } catch (cause) {
          return new DecodeError({ reason: "InvalidUtf8", frame: number, unit: "frame", cause })
        }
        const value = parse(text, number)
        if (value instanceof DecodeError) return value
        out.push(value)
        return undefined
      }),
    encode: (value) => Either.flatMap(stringify(value), (text) => framing.encode(encoder.encode(text)))
  }
}

/**
 * @since 0.1.0
 * @category constructors
 */
export const ndjson = <A, I>(schema: Schema.Schema<A, I, never>, options?: NdjsonOptions): Codec<A> => {
  const framing = lines({ ...options, delimiter: "\n" })
  const parse = makeParse(schema, "line")
  const stringify = makeStringify(schema)
  const skipBlank = (options?.blankLines ?? "skip") === "skip"
  return {
    name: "ndjson",
    decoder: () =>
      new MappedDecoder<string, A>(framing.decoder(), (line, number, out) => {
        if (skipBlank && (line.length === 0 || isBlank.test(line))) return undefined
        const value = parse(line, number)
        if (value instanceof DecodeError) return value
        out.push(value)
        return undefined
      }),
    // JSON.stringify never emits a raw line break, a trailing \r or a lone surrogate, so the
    // lines encoder cannot refuse the text for those; it still enforces maxLength.
    encode: (value) => Either.flatMap(stringify(value), framing.encode)
  }
}

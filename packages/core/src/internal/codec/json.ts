/**
 * JSON values over any framing (`json`) or one per line (`ndjson`): the byte splitting, UTF-8 and
 * `JSON.parse` / `JSON.stringify` as plain loops. The schema that checks each value comes from the
 * Effect shell as plain functions (`ValueSchema`); a bad message is a `DecodeError` carrying the
 * parse issue and its frame (or line) number.
 *
 * @since 0.1.0
 */
import type { FrameUnit } from "../../CodecError.js"
import { MAX_NDJSON_BATCH_LENGTH } from "./constants.js"
import { lengthDelimited } from "./lengthDelimited.js"
import { lines, mappedLinesDecoder } from "./lines.js"
import type { LinesOptions, TextMap } from "./lines.js"
import { decodeError, encodeError } from "./types.js"
import type { Failure, PlainCodec, PlainDecoder } from "./types.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface NdjsonOptions extends Omit<LinesOptions, "delimiter"> {
  /**
   * Lines that are blank as `String.prototype.trim` has it (empty, or only white space such as
   * spaces, tabs, U+00A0 or U+FEFF): `"skip"` (default; they still count for line numbers) or
   * `"error"` (a `DecodeError`, as `JSON.parse("")` would be).
   */
  readonly blankLines?: "skip" | "error" | undefined
}

/** Why the schema refused a value: the formatted issue and the issue itself. @internal */
export interface Rejection {
  readonly ok: false
  readonly detail: string
  readonly cause: unknown
}

/**
 * The schema's two directions as plain functions, built by the Effect shell (the only part that
 * knows Effect's `Schema`).
 *
 * @internal
 */
export interface ValueSchema<A> {
  /**
   * Pushes what the parsed JSON value decodes to onto `out`, or returns why it does not decode.
   * `undefined`: every value is itself (`Schema.Unknown`), nothing to call.
   */
  readonly decode: ((json: unknown, out: Array<A>) => Rejection | undefined) | undefined
  /** The value to give `JSON.stringify` for `value`, or why there is none. */
  readonly encode: (value: A) => { readonly ok: true; readonly json: unknown } | Rejection
}

const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true })
const encoder = new TextEncoder()

/**
 * Parses and checks one JSON text, pushing its value to `out`; `frame` is its 1-based number,
 * counting `unit`s.
 */
const makeParse = <A>(schema: ValueSchema<A>, unit: FrameUnit) => {
  const check = schema.decode
  return (text: string, frame: number, out: Array<A>): Failure | undefined => {
    let json: unknown
    try {
      json = JSON.parse(text)
    } catch (cause) {
      return decodeError({ reason: "InvalidJson", frame, unit, cause, detail: (cause as Error).message })
    }
    if (check === undefined) {
      out.push(json as A)
      return undefined
    }
    const rejected = check(json, out)
    return rejected && decodeError({ reason: "Schema", frame, unit, cause: rejected.cause, detail: rejected.detail })
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

/** The JSON text of `value`, or why it has none that decodes back to it. */
const makeStringify = <A>(schema: ValueSchema<A>) => (value: A): string | Failure => {
  const result = schema.encode(value)
  if (!result.ok) return encodeError({ reason: "Schema", cause: result.cause, detail: result.detail })
  let text: string | undefined
  try {
    text = JSON.stringify(result.json)
  } catch (cause) {
    return encodeError({ reason: "InvalidJson", cause, detail: (cause as Error).message })
  }
  if (text === undefined) return encodeError({ reason: "InvalidJson", detail: "the value has no JSON form" })
  if (text.indexOf("null") !== -1 && hasLossyNull(result.json)) {
    return encodeError({
      reason: "InvalidJson",
      detail: "the value holds a number JSON cannot carry (NaN, Infinity) or an undefined array element; JSON would write null"
    })
  }
  return text
}

/**
 * A framing decoder whose frames are mapped to values: the frames one chunk completes are mapped
 * in one loop, and a frame that does not map stops the decoder after the values before it.
 */
class MappedDecoder<F, A> implements PlainDecoder<A> {
  private readonly frames: Array<F> = []
  private count = 0
  private failure: Failure | undefined

  constructor(private readonly inner: PlainDecoder<F>, private readonly map: (frame: F, number: number, out: Array<A>) => Failure | undefined) {}

  /** Bytes held across chunks, by the framing decoder. @internal */
  get retained(): number {
    return this.inner.retained ?? 0
  }

  private drain(error: Failure | undefined, out: Array<A>): Failure | undefined {
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

  decode(chunk: Uint8Array, out: Array<A>): Failure | undefined {
    if (this.failure) return this.failure
    return this.drain(this.inner.decode(chunk, this.frames), out)
  }

  end(out: Array<A>): Failure | undefined {
    if (this.failure) return this.failure
    return this.drain(this.inner.end(this.frames), out)
  }
}

/**
 * JSON values checked by `schema`, one per frame of `framing`.
 *
 * @internal
 */
export const json = <A>(schema: ValueSchema<A>, framing: PlainCodec<Uint8Array> = lengthDelimited()): PlainCodec<A> => {
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
          return decodeError({ reason: "InvalidUtf8", frame: number, unit: "frame", cause })
        }
        return parse(text, number, out)
      }),
    encode: (value) => {
      const text = stringify(value)
      return typeof text === "string" ? framing.encode(encoder.encode(text)) : text
    }
  }
}

/**
 * Whether a line is blank as `String.prototype.trim` has it: empty, or only white space and line
 * terminators — U+00A0, U+FEFF, U+3000 and the other Unicode spaces too, which `JSON.parse`
 * refuses. Every character `trim` removes is below U+0021 or above U+007E, so a line starting with
 * a visible ASCII character, as JSON texts do, is decided by its first character.
 */
const isBlank = (line: string): boolean => {
  if (line.length === 0) return true
  const first = line.charCodeAt(0)
  return (first <= 0x20 || first >= 0x7f) && line.trim().length === 0
}

const OPEN_BRACE = 0x7b

/**
 * The lines of `text` (each a JSON object on its own, as most NDJSON is) parsed with one
 * `JSON.parse` of `[` + the lines joined by `,` + `]`, then checked one by one: a call per line
 * costs more than the parse of a short line (~40 ns of ~330 for a 70-byte chat message).
 *
 * It gives exactly what parsing each line would, or does not apply (`undefined`: the lines are
 * then parsed one by one, which names the bad line). It applies only when the text has no `[`
 * or `]` and every line starts with `{`. Then every comma added (before a line break) is at the
 * top of the array: not in a string (a JSON string holds no raw line break), not in an array (there
 * are none), not in an object (there a key would follow, not `{`). So the text of each line is a
 * comma-separated list of one or more values, and an array of exactly as many values as lines
 * means each line is one JSON value, the same as `JSON.parse` of the line alone (surrounding JSON
 * white space, such as a `\r`, is the same in both). Any throw (a syntax error, a nesting too deep)
 * is "does not apply".
 */
const makeBatch = <A>(check: ValueSchema<A>["decode"]): TextMap<A> => (text, first, out) => {
  if (text.length > MAX_NDJSON_BATCH_LENGTH || text.charCodeAt(0) !== OPEN_BRACE) return undefined
  if (text.indexOf("[") !== -1 || text.indexOf("]") !== -1) return undefined
  let count = 1
  for (let at = text.indexOf("\n"); at !== -1; at = text.indexOf("\n", at + 1)) {
    if (text.charCodeAt(at + 1) !== OPEN_BRACE) return undefined
    count++
  }
  let values: Array<unknown>
  try {
    values = JSON.parse("[" + text.replaceAll("\n", ",\n") + "]")
  } catch {
    return undefined
  }
  if (values.length !== count) return undefined
  if (check === undefined) {
    for (let i = 0; i < count; i++) out.push(values[i] as A)
    return count
  }
  for (let i = 0; i < count; i++) {
    const rejected = check(values[i], out)
    if (rejected) return decodeError({ reason: "Schema", frame: first + i, unit: "line", cause: rejected.cause, detail: rejected.detail })
  }
  return count
}

/**
 * Newline-delimited JSON values checked by `schema`.
 *
 * @internal
 */
export const ndjson = <A>(schema: ValueSchema<A>, options?: NdjsonOptions): PlainCodec<A> => {
  const linesOptions = { ...options, delimiter: "\n" }
  const framing = lines(linesOptions)
  const parse = makeParse(schema, "line")
  const stringify = makeStringify(schema)
  const skipBlank = (options?.blankLines ?? "skip") === "skip"
  return {
    name: "ndjson",
    // The lines a chunk completes are parsed together (`makeBatch`), or else each as the lines
    // decoder cuts it, in its loop.
    decoder: mappedLinesDecoder<A>(linesOptions, (line, number, out) => {
      if (skipBlank && isBlank(line)) return undefined
      return parse(line, number, out)
    }, makeBatch(schema.decode)),
    // JSON.stringify never emits a raw line break, a trailing \r or a lone surrogate, so the
    // lines encoder cannot refuse the text for those; it still enforces maxLength.
    encode: (value) => {
      const text = stringify(value)
      return typeof text === "string" ? framing.encode(text) : text
    }
  }
}

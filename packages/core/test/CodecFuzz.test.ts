/**
 * Property tests (fast-check) for every codec — lines, lengthDelimited, varintDelimited, json over
 * each framing, ndjson, bytes — with random options within their documented ranges and random
 * chunkings (empty chunks included). Each case checks:
 *
 * (a) every way of splitting the input gives the same frames and the same error;
 * (b) decode(encode(x)) = x for every x the encoder accepts (and a refusal is a typed error); and,
 *     for `lines` (strict UTF-8, no `crlf`), the encoder takes back every line its decoder gives,
 *     so the two agree on the bound;
 * (c) arbitrary bytes give frames or `FrameTooLarge` / `DecodeError` only: never a throw, a
 *     non-Error, a decoder that stops advancing, or a hang (each case is time-bounded, and the
 *     whole run is under a watchdog that interrupts a loop and names the case);
 * (d) the bytes a decoder holds across chunks stay within its bound, and grow only with the bytes
 *     that came: a line buffer at most 2x them; a length-prefixed frame 64 KiB up front (a reused
 *     staging buffer), then at most 16x them.
 *
 * CI runs a fixed seed with FUZZ_RUNS (default 5,000) cases per codec; `pnpm fuzz` runs long with
 * a random seed. A failure names the seed: rerun with FUZZ_SEED=<seed> FUZZ_RUNS=<runs> (and
 * FUZZ_PATH=<path> to replay the shrunk case at once; FUZZ_WATCHDOG_MS to change the watchdog).
 */
import { describe, expect, it } from "@effect/vitest"
import * as Codec from "@bytechannel/core/Codec"
import * as CodecError from "@bytechannel/core/CodecError"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import fc from "fast-check"
import * as vm from "node:vm"
import { concat, prng } from "./utils.js"

const DEFAULT_SEED = 12_012
const seedSetting = process.env.FUZZ_SEED
const SEED = seedSetting === undefined || seedSetting === ""
  ? DEFAULT_SEED
  : seedSetting === "random"
  ? (Date.now() ^ Math.floor(Math.random() * 2 ** 31)) | 0
  : Number(seedSetting)
const RUNS = Number(process.env.FUZZ_RUNS ?? 5_000)
/** A case taking longer than this fails (a decoder gone quadratic, or nearly stuck). */
const CASE_LIMIT_MS = 2_000
/** The watchdog's budget for one codec's whole run (about 10x a normal one): a decoder in a loop is interrupted after it. */
const RUN_LIMIT_MS = Number(process.env.FUZZ_WATCHDOG_MS ?? Math.max(60_000, RUNS * 12))
/** Mirrors of the codecs' constants (src/internal/codec/constants.ts), as the bounds tests hold them to. */
const UPFRONT = 64 * 1024
const FRAME_GROWTH_RATIO = 16
const INITIAL_PENDING = 256

if (seedSetting === "random") console.log(`codec fuzz: FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS}`)

// ---------------------------------------------------------------------------------------------
// Running a decoder: every outcome is checked to be frames or a typed error

type Outcome =
  | { readonly frames: ReadonlyArray<unknown>; readonly error?: undefined }
  | { readonly frames: ReadonlyArray<unknown>; readonly error: { readonly _tag: string; readonly reason: string; readonly frame: unknown; readonly unit: unknown; readonly limit: unknown } }

class FuzzFailure extends Error {}

const typed = (error: unknown, what: string) => {
  if (!(error instanceof CodecError.FrameTooLarge || error instanceof CodecError.DecodeError)) {
    throw new FuzzFailure(`${what} is not FrameTooLarge / DecodeError: ${String(error)}`)
  }
  return { _tag: error._tag, reason: error.reason, frame: error.frame, unit: error.unit, limit: (error as { limit?: unknown }).limit }
}

interface Bounds {
  /** Most bytes the decoder may hold, whatever the input. */
  readonly bound: number
  /** Bytes it may hold regardless of input (a length-prefixed head buffer). */
  readonly fixed: number
  /** Most bytes allocated before they arrive (`UPFRONT` for a length-prefixed frame). */
  readonly upfront: number
  /** Most bytes held per byte received, past `upfront`. */
  readonly ratio: number
}

/** Decodes `chunks` with a fresh decoder; throws a FuzzFailure on anything but frames or a typed error. */
const run = <A>(codec: Codec.Codec<A>, chunks: ReadonlyArray<Uint8Array>, bounds: Bounds): Outcome => {
  const decoder = codec.decoder()
  const total = chunks.reduce((n, c) => n + c.length, 0)
  // Every frame takes at least one byte (or, for `bytes`, one chunk): more frames than that means
  // a decoder that no longer advances; stop it before it fills memory.
  const limit = total + chunks.length + 1
  const out: Array<A> = []
  out.push = (...items: Array<A>) => {
    if (out.length + items.length > limit) throw new FuzzFailure(`more than ${limit} frames from ${total} bytes: the decoder does not advance`)
    return Array.prototype.push.apply(out, items)
  }
  let fed = 0
  const step = (call: () => CodecError.CodecError | undefined, what: string): Outcome | undefined => {
    let error: CodecError.CodecError | undefined
    try {
      error = call()
    } catch (cause) {
      if (cause instanceof FuzzFailure) throw cause
      throw new FuzzFailure(`${what} threw ${cause instanceof Error ? cause.stack : `a non-Error: ${String(cause)}`}`)
    }
    const retained = (decoder as { readonly retained?: number }).retained ?? 0
    const allowed = bounds.fixed + Math.min(bounds.bound, Math.max(bounds.upfront, bounds.ratio * fed))
    if (retained > allowed) {
      throw new FuzzFailure(`${what}: holds ${retained} bytes after ${fed} came (allowed ${allowed}, bound ${bounds.bound})`)
    }
    return error === undefined ? undefined : { frames: [...out], error: typed(error, what) }
  }
  for (const chunk of chunks) {
    fed += chunk.length
    const failed = step(() => decoder.decode(chunk, out), "decode")
    if (failed) return failed
  }
  return step(() => decoder.end(out), "end") ?? { frames: [...out] }
}

/** A JSON value as text without recursion (decoded values may be nested thousands deep). */
const deepText = (root: unknown): string => {
  const parts: Array<string> = []
  const stack: Array<unknown> = [root]
  const mark = (text: string) => Symbol.for(text)
  while (stack.length > 0) {
    const value = stack.pop()
    if (typeof value === "symbol") parts.push(value.description!)
    else if (Array.isArray(value)) {
      parts.push("[")
      stack.push(mark("]"))
      for (let i = value.length - 1; i >= 0; i--) stack.push(value[i], ...(i > 0 ? [mark(",")] : []))
    } else if (value !== null && typeof value === "object") {
      parts.push("{")
      stack.push(mark("}"))
      const entries = Object.entries(value)
      for (let i = entries.length - 1; i >= 0; i--) stack.push(entries[i]![1], mark(`${JSON.stringify(entries[i]![0])}:`), ...(i > 0 ? [mark(",")] : []))
    } else parts.push(value === undefined ? "undefined" : JSON.stringify(value))
  }
  return parts.join("")
}

const hexOf = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString("hex")

/** Frames as comparable values (bytes as hex, JSON values as text). */
const comparable = (outcome: Outcome) => ({
  ...outcome,
  frames: outcome.frames.map((frame) => (frame instanceof Uint8Array ? `hex:${hexOf(frame)}` : deepText(frame)))
})

// ---------------------------------------------------------------------------------------------
// Inputs and chunkings

/** Cuts `bytes` at `points` (taken modulo length + 1, kept with duplicates: those are empty chunks). */
const cut = (bytes: Uint8Array, points: ReadonlyArray<number>) => {
  const sorted = points.map((p) => p % (bytes.length + 1)).sort((x, y) => x - y)
  const out: Array<Uint8Array> = []
  let last = 0
  for (const p of sorted) {
    out.push(bytes.subarray(last, p))
    last = p
  }
  out.push(bytes.subarray(last))
  return out
}
const oneByteChunks = (bytes: Uint8Array) => Array.from(bytes, (_, i) => bytes.subarray(i, i + 1))
const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.length).equals(b)

/** A seeded filler for large payloads (fast-check is slow at building big arrays byte by byte). */
const filled = (size: number, seed: number) => {
  const random = prng(seed)
  const words = new Uint32Array(Math.ceil(size / 4))
  for (let i = 0; i < words.length; i++) words[i] = random() * 2 ** 32
  return new Uint8Array(words.buffer, 0, size)
}

const payloadArb = (maxLength: number) =>
  fc.oneof(
    { weight: 150, arbitrary: fc.uint8Array({ maxLength }) },
    { weight: 1, arbitrary: fc.tuple(fc.integer({ min: 60_000, max: 140_000 }), fc.nat()).map(([size, seed]) => filled(size, seed)) }
  )

/** Edits applied to a valid wire: bit flips, inserted and deleted bytes, a truncation. */
const editArb = fc.record({
  kind: fc.constantFrom("flip", "insert", "delete", "truncate", "set"),
  at: fc.nat(),
  byte: fc.oneof(fc.constantFrom(0, 1, 0x0a, 0x0d, 0x7f, 0x80, 0xff), fc.nat(255)),
  count: fc.integer({ min: 1, max: 8 })
})
type Edit = typeof editArb extends fc.Arbitrary<infer T> ? T : never

const applyEdits = (wire: Uint8Array, edits: ReadonlyArray<Edit>) => {
  let bytes = wire.slice()
  for (const edit of edits) {
    const at = bytes.length === 0 ? 0 : edit.at % bytes.length
    switch (edit.kind) {
      case "flip":
        if (bytes.length > 0) bytes[at] ^= 1 << (edit.byte % 8)
        break
      case "set":
        if (bytes.length > 0) bytes[at] = edit.byte
        break
      case "insert":
        bytes = concat([bytes.subarray(0, at), new Uint8Array(edit.count).fill(edit.byte), bytes.subarray(at)])
        break
      case "delete":
        bytes = concat([bytes.subarray(0, at), bytes.subarray(at + edit.count)])
        break
      case "truncate":
        bytes = bytes.subarray(0, at)
        break
    }
  }
  return bytes
}

/** Random bytes biased to what codecs look at: small lengths, varint continuation bits, line breaks, JSON punctuation, runs of zeros. */
const noiseArb = fc
  .array(
    fc.oneof(
      fc.constantFrom(0, 1, 2, 3, 0x0a, 0x0d, 0x20, 0x7f, 0x80, 0x81, 0xff, 0x22, 0x5b, 0x5d, 0x7b, 0x7d).map((b) => [b]),
      fc.nat(255).map((b) => [b]),
      fc.integer({ min: 2, max: 12 }).map((n) => new Array<number>(n).fill(0))
    ),
    { maxLength: 120 }
  )
  .map((runs) => Uint8Array.from(runs.flat()))

const chunkingArb = fc.array(fc.nat(), { maxLength: 12 })

// ---------------------------------------------------------------------------------------------
// One fixture per codec: options within the documented ranges, candidate values, bounds

interface Built<A> {
  /** The options, for the failure report. */
  readonly label: unknown
  readonly codec: Codec.Codec<A>
  readonly bounds: Bounds
  /** Candidate values for round trips; the encoder may refuse some. */
  readonly values: fc.Arbitrary<A>
  /** Inputs aimed at this codec's weak spots. */
  readonly adversarial: fc.Arbitrary<Uint8Array>
  /** Whether every frame its decoder gives, its encoder must write back (`lines`, strict, without `crlf`). */
  readonly reencodes?: boolean
}

interface Fixture {
  readonly name: string
  readonly build: fc.Arbitrary<Built<any>>
  /** Whether frames do not depend on the chunking (all but `bytes` and JSON over `bytes`). */
  readonly invariant: boolean
  /** How to cut an encoded sequence for a round trip: anywhere, or one chunk per value (`bytes`). */
  readonly perValue?: boolean
}

const opt = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined })
const utf8 = new TextEncoder()

const lineText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 12 }),
  fc.array(fc.constantFrom("a", "é", "€", "𝄞", "\r", "\n", "\uFFFD", "\uD800", "\uDC00", "\uFEFF", "\u00A0", " ", ";", "\u0000"), { maxLength: 12 }).map((parts) => parts.join(""))
)

const linesOptionsArb = fc.record({
  maxLength: fc.oneof(opt(fc.integer({ min: 0, max: 64 })), fc.integer({ min: 0, max: 400 })),
  delimiter: fc.oneof({ weight: 4, arbitrary: fc.constant(undefined) }, fc.integer({ min: 0, max: 0x7f }).map((code) => String.fromCharCode(code))),
  crlf: opt(fc.boolean()),
  utf8: opt(fc.constantFrom("strict" as const, "replace" as const))
})

const linesBounds = (maxLength: number | undefined, crlf: boolean | undefined): Bounds => {
  const hold = (maxLength ?? 1024 * 1024) + (crlf === false ? 0 : 1)
  return { bound: hold, fixed: 0, upfront: Math.min(INITIAL_PENDING, hold), ratio: 2 }
}

/** A line of `size` bytes, with or without its line break. */
const longLine = fc.tuple(fc.integer({ min: 0, max: 2_000 }), fc.boolean(), fc.constantFrom(0x61, 0xff, 0x0d)).map(([size, ended, byte]) =>
  concat([new Uint8Array(size).fill(byte), ended ? Uint8Array.of(0x0a) : new Uint8Array(0)])
)

const lengthOptionsArb = fc
  .record({
    lengthFieldLength: opt(fc.constantFrom(1 as const, 2 as const, 3 as const, 4 as const, 8 as const)),
    lengthFieldOffset: opt(fc.integer({ min: 0, max: 6 })),
    lengthAdjustment: opt(fc.integer({ min: -12, max: 12 })),
    endian: opt(fc.constantFrom("big" as const, "little" as const)),
    maxFrameLength: fc.oneof(opt(fc.integer({ min: 0, max: 400 })), fc.constantFrom(2 ** 40, Number.MAX_SAFE_INTEGER))
  })
  .chain((o) =>
    // numSkip: the default (strip the head), or anywhere from 0 to a few bytes past the head.
    fc.record({ ...Object.fromEntries(Object.entries(o).map(([k, v]) => [k, fc.constant(v)])), numSkip: opt(fc.integer({ min: 0, max: (o.lengthFieldOffset ?? 0) + (o.lengthFieldLength ?? 4) + 4 })) }) as fc.Arbitrary<Codec.LengthDelimitedOptions>
  )

const fieldSize = (o: Codec.LengthDelimitedOptions) => o.lengthFieldLength ?? 4
const headOf = (o: Codec.LengthDelimitedOptions) => {
  const fieldEnd = (o.lengthFieldOffset ?? 0) + fieldSize(o)
  return { fieldEnd, numSkip: o.numSkip ?? fieldEnd, head: Math.max(fieldEnd, o.numSkip ?? fieldEnd) }
}
/** A frame longer than `UPFRONT` starts in a staging buffer the decoder keeps. */
const staging = (bound: number) => (bound > UPFRONT ? UPFRONT : 0)
const lengthBounds = (o: Codec.LengthDelimitedOptions): Bounds => {
  const bound = Math.min(o.maxFrameLength ?? 8 * 1024 * 1024, Number.MAX_SAFE_INTEGER) + Math.max(0, o.lengthAdjustment ?? 0)
  return { bound, fixed: headOf(o).head + staging(bound), upfront: UPFRONT, ratio: FRAME_GROWTH_RATIO }
}

/**
 * Values for a lengthDelimited codec. When it keeps (part of) the head (numSkip < offset +
 * field), a value must carry its own length field: build it so, most of the time.
 */
const lengthValues = (o: Codec.LengthDelimitedOptions): fc.Arbitrary<Uint8Array> => {
  const { fieldEnd, numSkip } = headOf(o)
  const payload = payloadArb(300)
  if (numSkip >= fieldEnd) return payload
  const shaped = payload.map((body) => {
    const length = Math.max(body.length, fieldEnd - numSkip)
    const wire = new Uint8Array(numSkip + length)
    wire.set(body.subarray(0, length), numSkip)
    let field = length - (o.lengthAdjustment ?? 0)
    const size = fieldSize(o)
    const offset = o.lengthFieldOffset ?? 0
    for (let i = 0; i < size; i++) {
      wire[offset + (o.endian === "little" ? i : size - 1 - i)] = field % 256
      field = Math.floor(field / 256)
    }
    return wire.subarray(numSkip)
  })
  return fc.oneof({ weight: 4, arbitrary: shaped }, { weight: 1, arbitrary: payload })
}

/** A byte of a length field: mostly 0 and small values (empty and short frames), or the extremes. */
const lengthByte = fc.oneof({ weight: 3, arbitrary: fc.constantFrom(0, 0, 0, 1, 2, 3, 0x7f, 0x80, 0xff) }, { weight: 1, arbitrary: fc.nat(255) })
/** Heads announcing lengths from 0 to huge, then a few bytes. */
const announce = (size: number) =>
  fc.tuple(fc.array(lengthByte, { minLength: size, maxLength: size }), fc.uint8Array({ maxLength: 40 })).map(([head, tail]) => concat([Uint8Array.from(head), tail]))

const varintOptionsArb = fc.record({
  maxFrameLength: fc.oneof(opt(fc.integer({ min: 0, max: 400 })), fc.constantFrom(2 ** 40, Number.MAX_SAFE_INTEGER, Infinity))
})
const varintBounds = (o: Codec.VarintDelimitedOptions): Bounds => {
  const bound = Math.min(o.maxFrameLength ?? 8 * 1024 * 1024, Number.MAX_SAFE_INTEGER)
  return { bound, fixed: staging(bound), upfront: UPFRONT, ratio: FRAME_GROWTH_RATIO }
}

// JSON: a plain record, anything JSON, and a recursive schema.
const Chat = Schema.Struct({ from: Schema.String, text: Schema.String, at: Schema.optional(Schema.Number) })
interface Tree {
  readonly c: ReadonlyArray<Tree>
}
const Tree: Schema.Codec<Tree> = Schema.Struct({ c: Schema.Array(Schema.suspend(() => Tree)) })
/** Numbers, now and then ones JSON cannot carry (which the encoder must refuse); never -0, which JSON writes as 0. */
const numberArb = fc.oneof(
  { weight: 8, arbitrary: fc.double().filter((n) => !Object.is(n, -0)) },
  { weight: 1, arbitrary: fc.constantFrom(NaN, Infinity, -Infinity) }
)
const noNegativeZero = (value: unknown): unknown =>
  Object.is(value, -0)
    ? 0
    : Array.isArray(value)
    ? value.map(noNegativeZero)
    : value !== null && typeof value === "object"
    ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, noNegativeZero(v)]))
    : value
const treeArb: fc.Arbitrary<Tree> = fc.letrec<{ tree: Tree }>((tie) => ({
  tree: fc.oneof(
    { depthIdentifier: "tree", maxDepth: 5 },
    fc.constant({ c: [] }),
    fc.record({ c: fc.array(tie("tree"), { maxLength: 3, depthIdentifier: "tree" }) })
  )
})).tree
const schemas = [
  { name: "Struct", schema: Chat as Schema.Codec<any, any>, values: fc.record({ from: lineText, text: fc.fullUnicodeString({ maxLength: 30 }), at: opt(numberArb) }, { requiredKeys: ["from", "text"] }) },
  { name: "Unknown", schema: Schema.Unknown as Schema.Codec<any, any>, values: fc.oneof({ weight: 6, arbitrary: fc.jsonValue({ maxDepth: 4 }).map(noNegativeZero) }, { weight: 1, arbitrary: fc.array(numberArb, { maxLength: 3 }) }) },
  { name: "Tree", schema: Tree as Schema.Codec<any, any>, values: treeArb as fc.Arbitrary<unknown> }
]
const schemaArb = fc.constantFrom(...schemas)

/** Text as a JSON codec sees it: nested thousands deep, broken, or a wrong shape. */
/** Mostly shallow; now and then deeper than a stack can recurse through (each of those costs milliseconds). */
const depthArb = fc.oneof({ weight: 5, arbitrary: fc.integer({ min: 1, max: 200 }) }, { weight: 1, arbitrary: fc.integer({ min: 2_000, max: 4_000 }) })
const jsonTexts = fc.oneof(
  depthArb.map((depth) => "[".repeat(depth) + "]".repeat(depth)),
  depthArb.map((depth) => '{"c":['.repeat(depth) + "]}".repeat(depth)),
  depthArb.map((depth) => "[".repeat(depth)),
  fc.json({ maxDepth: 3 }),
  fc.constantFrom("", " ", "\u00a0", "\ufeff\t\u3000", "null", "{", '{"from":1}', '"\\ud800"', "1e999", "\u00ff")
)

const framings: ReadonlyArray<{ readonly name: string; readonly arb: fc.Arbitrary<{ label: unknown; codec: Codec.Codec<Uint8Array>; bounds: Bounds; frame: (bytes: Uint8Array) => Uint8Array }> }> = [
  {
    name: "lengthDelimited",
    arb: lengthOptionsArb.filter((o) => headOf(o).numSkip >= headOf(o).fieldEnd).map((o) => {
      const codec = Codec.lengthDelimited(o)
      return { label: { lengthDelimited: o }, codec, bounds: lengthBounds(o), frame: (bytes) => Result.getOrElse(codec.encode(bytes), () => bytes) }
    })
  },
  {
    name: "varintDelimited",
    arb: varintOptionsArb.map((o) => {
      const codec = Codec.varintDelimited(o)
      return { label: { varintDelimited: o }, codec, bounds: varintBounds(o), frame: (bytes) => Result.getOrElse(codec.encode(bytes), () => bytes) }
    })
  },
  { name: "bytes", arb: fc.constant({ label: "bytes", codec: Codec.bytes, bounds: { bound: 0, fixed: 0, upfront: 0, ratio: 0 }, frame: (bytes: Uint8Array) => bytes }) }
]

const fixtures: ReadonlyArray<Fixture> = [
  {
    name: "lines",
    invariant: true,
    build: linesOptionsArb.map((o): Built<string> => ({
      label: o,
      codec: Codec.lines(o),
      bounds: linesBounds(o.maxLength, o.crlf),
      values: lineText,
      adversarial: longLine,
      // With crlf, "a\r\r\n" gives "a\r", which the encoder refuses (its \r would be stripped).
      reencodes: o.crlf === false && o.utf8 !== "replace"
    }))
  },
  {
    name: "lengthDelimited",
    invariant: true,
    build: lengthOptionsArb.map((o): Built<Uint8Array> => ({
      label: o,
      codec: Codec.lengthDelimited(o),
      bounds: lengthBounds(o),
      values: lengthValues(o),
      adversarial: announce(headOf(o).head)
    }))
  },
  {
    name: "varintDelimited",
    invariant: true,
    build: varintOptionsArb.map((o): Built<Uint8Array> => ({
      label: o,
      codec: Codec.varintDelimited(o),
      bounds: varintBounds(o),
      values: payloadArb(300),
      adversarial: fc.oneof(announce(10), fc.integer({ min: 1, max: 14 }).map((n) => new Uint8Array(n).fill(0xff)))
    }))
  },
  ...framings.map((framing): Fixture => ({
    name: `json over ${framing.name}`,
    invariant: framing.name !== "bytes",
    perValue: framing.name === "bytes",
    build: fc.tuple(framing.arb, schemaArb).map(([f, s]): Built<unknown> => ({
      label: { framing: f.label, schema: s.name },
      codec: Codec.json(s.schema, { framing: f.codec }),
      bounds: f.bounds,
      values: s.values,
      adversarial: jsonTexts.map((text) => f.frame(utf8.encode(text)))
    }))
  })),
  {
    name: "ndjson",
    invariant: true,
    // Half the time the default maxLength, so that lines nested thousands deep get to the parser.
    build: fc.tuple(linesOptionsArb, fc.boolean(), opt(fc.constantFrom("skip" as const, "error" as const)), schemaArb).map(([lo, long, blankLines, s]): Built<unknown> => {
      const o = long ? { ...lo, maxLength: undefined } : lo
      return {
        label: { ...o, blankLines, schema: s.name },
        codec: Codec.ndjson(s.schema, { maxLength: o.maxLength, crlf: o.crlf, utf8: o.utf8, blankLines }),
        bounds: linesBounds(o.maxLength, o.crlf),
        values: s.values,
        adversarial: fc.array(jsonTexts, { minLength: 1, maxLength: 3 }).map((texts) => utf8.encode(texts.join("\n")))
      }
    })
  },
  {
    name: "bytes",
    invariant: false,
    perValue: true,
    build: fc.constant<Built<Uint8Array>>({ label: "bytes", codec: Codec.bytes, bounds: { bound: 0, fixed: 0, upfront: 0, ratio: 0 }, values: payloadArb(100), adversarial: noiseArb })
  }
]

// ---------------------------------------------------------------------------------------------
// The property

/** Runs `body` under a watchdog: a synchronous loop is interrupted after `timeout` ms. */
const watchdogScript = new vm.Script("job()")
const watchdogContext = vm.createContext({ job: undefined as undefined | (() => void) })
const underWatchdog = (timeout: number, body: () => void) => {
  watchdogContext.job = body
  try {
    watchdogScript.runInContext(watchdogContext, { timeout })
  } finally {
    watchdogContext.job = undefined
  }
}

const caseArb = (fixture: Fixture) =>
  fixture.build.chain((built) =>
    fc.record({
      built: fc.constant(built),
      values: fc.array(built.values, { maxLength: 8 }),
      mode: fc.constantFrom("wire", "edited", "edited", "noise", "adversarial", "adversarial"),
      edits: fc.array(editArb, { minLength: 1, maxLength: 4 }),
      noise: noiseArb,
      adversarial: built.adversarial,
      cuts: chunkingArb,
      cutsAgain: chunkingArb
    }).map((c) =>
      // Printed compactly in a failure report (fast-check's seed and path reproduce it exactly).
      Object.assign(c, { [fc.toStringMethod]: () => describeCase(c) })
    )
  )

const describeCase = (c: any) => {
  const bytes = (b: Uint8Array) => (b.length > 256 ? `${b.length} bytes: ${hexOf(b.subarray(0, 256))}...` : hexOf(b))
  try {
    return fc.stringify({
      options: c.built.label,
      values: fc.stringify(c.values).slice(0, 1_000),
      mode: c.mode,
      edits: c.edits,
      input: c.mode === "noise" ? bytes(c.noise) : c.mode === "adversarial" ? bytes(c.adversarial) : "(from the values)",
      cuts: c.cuts,
      cutsAgain: c.cutsAgain
    })
  } catch {
    return "(case not printable)"
  }
}

describe(`Codec fuzz (fast-check, FUZZ_SEED=${SEED}, FUZZ_RUNS=${RUNS} per codec)`, () => {
  for (const fixture of fixtures) {
    it(`${fixture.name}: chunking invariance, round trips, typed errors only, bounded memory`, () => {
      const stats = { offered: 0, accepted: 0, frames: 0, errors: 0 }
      let current: unknown
      const property = fc.property(caseArb(fixture), (c) => {
        current = c
        const started = performance.now()
        const { codec, bounds } = c.built

        // (b) what the encoder accepts decodes back, at any chunking; a refusal is typed.
        const accepted: Array<unknown> = []
        const encoded: Array<Uint8Array> = []
        for (const value of c.values) {
          stats.offered++
          let result: Result.Result<Uint8Array, CodecError.CodecError>
          try {
            result = codec.encode(value)
          } catch (cause) {
            throw new FuzzFailure(`encode threw ${String(cause)}`)
          }
          if (Result.isFailure(result)) {
            const error = result.failure
            if (!(error instanceof CodecError.EncodeError || error instanceof CodecError.FrameTooLarge)) throw new FuzzFailure(`encode refused with ${String(error)}`)
            continue
          }
          stats.accepted++
          accepted.push(value)
          encoded.push(result.success)
        }
        const wire = concat(encoded)
        const back = run(codec, fixture.perValue ? encoded : cut(wire, c.cuts), bounds)
        if (back.error) throw new FuzzFailure(`a round trip failed to decode: ${fc.stringify(back.error)}`)
        if (fixture.name === "bytes") expect(sameBytes(concat(back.frames as Array<Uint8Array>), wire)).toBe(true)
        else if (accepted[0] instanceof Uint8Array) expect(comparable(back)).toEqual(comparable({ frames: accepted }))
        else expect(back.frames).toEqual(accepted)

        // (a), (c), (d) on an input built from the wire, or not.
        const input = c.mode === "wire" ? wire : c.mode === "edited" ? applyEdits(wire, c.edits) : c.mode === "noise" ? c.noise : c.adversarial
        const whole = run(codec, [input], bounds)
        const split = run(codec, cut(input, c.cuts), bounds)
        const again = run(codec, cut(input, c.cutsAgain), bounds)
        const single = input.length <= 512 ? run(codec, oneByteChunks(input), bounds) : undefined
        if (c.built.reencodes) {
          for (const frame of whole.frames) {
            const again = codec.encode(frame)
            if (Result.isFailure(again)) throw new FuzzFailure(`the encoder refuses a line its decoder gave (${fc.stringify(frame)}): ${again.failure.message}`)
          }
        }
        if (whole.error) stats.errors++
        stats.frames += whole.frames.length + back.frames.length
        if (fixture.invariant) {
          const expected = comparable(whole)
          expect(comparable(split)).toEqual(expected)
          expect(comparable(again)).toEqual(expected)
          if (single) expect(comparable(single)).toEqual(expected)
        } else if (fixture.name === "bytes") {
          for (const outcome of [split, again, ...(single ? [single] : [])]) expect(sameBytes(concat(outcome.frames as Array<Uint8Array>), input)).toBe(true)
        }
        const took = performance.now() - started
        if (took > CASE_LIMIT_MS) throw new FuzzFailure(`one case took ${Math.round(took)} ms (limit ${CASE_LIMIT_MS})`)
      })
      try {
        underWatchdog(RUN_LIMIT_MS, () => fc.assert(property, { seed: SEED, numRuns: RUNS, ...(process.env.FUZZ_PATH ? { path: process.env.FUZZ_PATH } : {}) }))
      } catch (cause) {
        const message = cause instanceof Error ? (process.env.FUZZ_DEBUG ? String(cause.stack) : cause.message) : String(cause)
        const hung = (cause as { code?: string }).code === "ERR_SCRIPT_EXECUTION_TIMEOUT"
        throw new Error(
          `${fixture.name}: reproduce with FUZZ_SEED=${SEED} FUZZ_RUNS=${RUNS}\n` +
            (hung ? `interrupted after ${RUN_LIMIT_MS} ms, in the case ${describeCase(current)}\n` : "") +
            message
        )
      }
      // The run means something only if both outcomes and most values were exercised.
      expect(stats.accepted).toBeGreaterThan(stats.offered * 0.3)
      expect(stats.frames).toBeGreaterThan(RUNS / 10)
      if (fixture.name !== "bytes") expect(stats.errors).toBeGreaterThan(RUNS / 10)
    }, RUN_LIMIT_MS + 60_000)
  }
})

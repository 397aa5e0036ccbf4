import { describe, expect, it } from "@effect/vitest"
import * as Codec from "@bytechannel/core/Codec"
import * as CodecError from "@bytechannel/core/CodecError"
import * as Arbitrary from "effect/Arbitrary"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as SchemaIssue from "effect/SchemaIssue"
import * as Stream from "effect/Stream"
import fc from "fast-check"
import * as lp from "it-length-prefixed"
import * as v8 from "node:v8"
import * as vm from "node:vm"
import { concat, prng } from "./utils.js"

v8.setFlagsFromString("--expose-gc")
const gc = vm.runInNewContext("gc") as () => void
const memory = () => {
  const usage = process.memoryUsage()
  return usage.heapUsed + usage.arrayBuffers
}

const utf8 = new TextEncoder()
const b = (text: string) => utf8.encode(text)
const hex = (...values: Array<number>) => new Uint8Array(values)
/** Cuts `bytes` at the given (sorted, deduplicated) points. */
const cut = (bytes: Uint8Array, points: ReadonlyArray<number>) => {
  const sorted = [...new Set(points.map((p) => p % (bytes.length + 1)))].sort((x, y) => x - y)
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
const encodeOk = <A>(codec: Codec.Codec<A>, value: A) => Result.getOrThrow(codec.encode(value))
const encodeErr = <A>(codec: Codec.Codec<A>, value: A) => Result.getFailure(codec.encode(value)).pipe((o) => (o._tag === "Some" ? o.value : undefined))
const encodeAll = <A>(codec: Codec.Codec<A>, values: ReadonlyArray<A>) => concat(values.map((v) => encodeOk(codec, v)))
const decodeOk = <A>(codec: Codec.Codec<A>, chunks: Iterable<Uint8Array>) => Result.getOrThrow(Codec.decodeAll(codec, chunks))
const decodeErr = <A>(codec: Codec.Codec<A>, chunks: Iterable<Uint8Array>) => Result.getFailure(Codec.decodeAll(codec, chunks)).pipe((o) => (o._tag === "Some" ? o.value : undefined))
/** What Schema itself says of `input`: the decoded value, or its error's message (what `DecodeError.detail` must be). */
const schemaDecode = (schema: Schema.Codec<any, any>, input: unknown) => Schema.decodeUnknownResult(schema)(input)

// Deep equality is slow on large byte arrays; compare those with Buffer.equals.
const expectSame = <A>(actual: ReadonlyArray<A>, expected: ReadonlyArray<A>) => {
  expect(actual.length).toBe(expected.length)
  actual.forEach((value, i) => {
    const other = expected[i]
    if (value instanceof Uint8Array && other instanceof Uint8Array) {
      expect(Buffer.from(value.buffer, value.byteOffset, value.length).equals(other)).toBe(true)
    } else expect(value).toEqual(other)
  })
}

/** Any frames, encoded, re-chunked at arbitrary points (and one byte at a time), decode to the same frames. */
const roundTrips = <A>(codec: Codec.Codec<A>, frames: fc.Arbitrary<Array<A>>, runs = 200) => {
  fc.assert(
    fc.property(frames, fc.array(fc.nat(), { maxLength: 20 }), (values, points) => {
      const wire = encodeAll(codec, values)
      expectSame(decodeOk(codec, [wire]), values)
      expectSame(decodeOk(codec, cut(wire, points)), values)
    }),
    { numRuns: runs }
  )
  fc.assert(
    fc.property(frames, (values) => {
      expectSame(decodeOk(codec, oneByteChunks(encodeAll(codec, values))), values)
    }),
    { numRuns: Math.ceil(runs / 4) }
  )
}

const bytesFrames = (maxLength: number) => fc.array(fc.uint8Array({ maxLength }), { maxLength: 30 })
const lineText = fc.fullUnicodeString({ maxLength: 40 }).filter((s) => !s.includes("\n") && !s.endsWith("\r"))

const Chat = Schema.Struct({ from: Schema.String, text: Schema.String, at: Schema.optional(Schema.Number) })
const chatArb = fc.record({ from: fc.fullUnicodeString({ maxLength: 10 }), text: fc.fullUnicodeString({ maxLength: 60 }) })

describe("Codec properties: encode, re-chunk anywhere, decode", () => {
  it("lines", () => roundTrips(Codec.lines(), fc.array(lineText, { maxLength: 30 })))
  for (const lengthFieldLength of [1, 2, 3, 4, 8] as const) {
    for (const endian of ["big", "little"] as const) {
      it(`lengthDelimited ${lengthFieldLength}-byte ${endian}-endian`, () =>
        roundTrips(Codec.lengthDelimited({ lengthFieldLength, endian }), bytesFrames(lengthFieldLength === 1 ? 255 : 600), 100))
    }
  }
  it("lengthDelimited with a negative adjustment (length includes the head)", () =>
    roundTrips(Codec.lengthDelimited({ lengthFieldLength: 2, lengthAdjustment: -2 }), bytesFrames(300)))
  it("varintDelimited (prefixes of 1 to 3 bytes)", () =>
    roundTrips(
      Codec.varintDelimited(),
      // Sizes around the 1-, 2- and 3-byte prefix boundaries; contents from a seeded generator
      // (fast-check is slow at generating 16 KiB arrays byte by byte).
      fc.array(
        fc.tuple(fc.oneof(fc.nat(200), fc.integer({ min: 16_000, max: 17_000 })), fc.nat()).map(([size, seed]) => {
          const random = prng(seed)
          return Uint8Array.from({ length: size }, () => Math.floor(random() * 256))
        }),
        { maxLength: 6 }
      ),
      60
    ))
  it("ndjson", () => roundTrips(Codec.ndjson(Chat), fc.array(chatArb, { maxLength: 30 })))
  it("json over lengthDelimited", () => roundTrips(Codec.json(Chat), fc.array(chatArb, { maxLength: 30 })))
  it("json over varintDelimited", () => roundTrips(Codec.json(Chat, { framing: Codec.varintDelimited() }), fc.array(chatArb, { maxLength: 30 })))
  it("bytes keeps every chunk", () => {
    const chunks = [hex(1), hex(), hex(2, 3)]
    expect(decodeOk(Codec.bytes, chunks)).toEqual(chunks)
  })
  it("many frames in one chunk come out as views of it, without copies", () => {
    const wire = encodeAll(Codec.lengthDelimited(), [hex(1, 2), hex(3)])
    const [first, second] = decodeOk(Codec.lengthDelimited(), [wire])
    expect(first!.buffer).toBe(wire.buffer)
    expect(second!.buffer).toBe(wire.buffer)
  })
})

describe("Codec.lines (tokio-util LinesCodec cases)", () => {
  it("splits on \\n, strips one \\r, keeps empty lines, emits the tail at EOF", () => {
    expect(decodeOk(Codec.lines(), [b("line 1\nline 2\r\nline 3\n\r\n\r\rk")])).toEqual(["line 1", "line 2", "line 3", "", "\r\rk"])
  })
  it("a tail of a single \\r at EOF is an empty line (one \\r is stripped)", () => {
    expect(decodeOk(Codec.lines(), [b("a\n\r")])).toEqual(["a", ""])
  })
  it("no tail at EOF after a final line break; empty input gives nothing", () => {
    expect(decodeOk(Codec.lines(), [b("a\n")])).toEqual(["a"])
    expect(decodeOk(Codec.lines(), [])).toEqual([])
  })
  it("a \\r ending one chunk and a \\n starting the next are one line break", () => {
    expect(decodeOk(Codec.lines(), [b("a\r"), b("\nb\r"), b("\n")])).toEqual(["a", "b"])
  })
  it("crlf: false keeps the \\r", () => {
    expect(decodeOk(Codec.lines({ crlf: false }), [b("a\r\n")])).toEqual(["a\r"])
  })
  it("a UTF-8 character split across chunks decodes whole", () => {
    const bytes = b("é€𝄞\n")
    for (let i = 1; i < bytes.length - 1; i++) {
      expect(decodeOk(Codec.lines(), [bytes.subarray(0, i), bytes.subarray(i)])).toEqual(["é€𝄞"])
    }
  })
  it("invalid UTF-8 is a DecodeError with its line number; \"replace\" substitutes U+FFFD", () => {
    const wire = concat([b("ok\n"), hex(0x61, 0xff, 0x0a)])
    expect(decodeErr(Codec.lines(), [wire])).toMatchObject({ _tag: "DecodeError", reason: "InvalidUtf8", frame: 2 })
    expect(decodeOk(Codec.lines({ utf8: "replace" }), [wire])).toEqual(["ok", "a\uFFFD"])
  })
  it("a line over maxLength in one chunk fails at once, even with no line break yet (split2 misses this)", () => {
    const decoder = Codec.lines({ maxLength: 6 }).decoder()
    const out: Array<string> = []
    const error = decoder.decode(b("line 1 is too long"), out)
    expect(error).toBeInstanceOf(CodecError.FrameTooLarge)
    expect(error).toMatchObject({ reason: "Decode", limit: 6, frame: 1 })
  })
  it("a line over maxLength in many chunks fails as soon as the bound is passed, holding at most the bound", () => {
    const decoder = Codec.lines({ maxLength: 100, crlf: false }).decoder()
    const out: Array<string> = []
    for (let i = 1; i <= 100; i++) expect(decoder.decode(b("a"), out)).toBeUndefined()
    expect(decoder.decode(b("a"), out)).toBeInstanceOf(CodecError.FrameTooLarge)
    // With crlf, one more byte may be the \r that gets stripped.
    const crlf = Codec.lines({ maxLength: 100 }).decoder()
    for (let i = 1; i <= 101; i++) expect(crlf.decode(b("a"), out)).toBeUndefined()
    expect(crlf.decode(b("a"), out)).toBeInstanceOf(CodecError.FrameTooLarge)
  })
  it("exactly maxLength fits, also with its \\r across chunks; one more byte does not", () => {
    expect(decodeOk(Codec.lines({ maxLength: 6 }), [b("line "), b("1\r"), b("\n")])).toEqual(["line 1"])
    expect(decodeErr(Codec.lines({ maxLength: 6 }), [b("line 12\n")])).toMatchObject({ _tag: "FrameTooLarge", size: 7 })
    expect(decodeErr(Codec.lines({ maxLength: 6 }), [b("line 12\r\n")])).toMatchObject({ _tag: "FrameTooLarge", size: 7 })
  })
  it("after FrameTooLarge the decoder stays failed (the stream ends there; no silent resume)", () => {
    const decoder = Codec.lines({ maxLength: 3 }).decoder()
    const out: Array<string> = []
    expect(decoder.decode(b("ok\ntoo long\nok\n"), out)).toMatchObject({ _tag: "FrameTooLarge", frame: 2 })
    expect(out).toEqual(["ok"])
    expect(decoder.decode(b("ok\n"), out)).toMatchObject({ _tag: "FrameTooLarge" })
    expect(decoder.end(out)).toMatchObject({ _tag: "FrameTooLarge" })
  })
  it("the tail at EOF is bounded too", () => {
    expect(decodeErr(Codec.lines({ maxLength: 3 }), [b("ab"), b("cd")])).toMatchObject({ _tag: "FrameTooLarge" })
  })
  it("a custom delimiter", () => {
    expect(decodeOk(Codec.lines({ delimiter: ";", crlf: false }), [b("a;b;")])).toEqual(["a", "b"])
    expect(() => Codec.lines({ delimiter: "ab" })).toThrow(RangeError)
  })
  it("encode appends \\n, refuses a line containing it, and bounds the length", () => {
    expect(encodeOk(Codec.lines(), "line 1")).toEqual(b("line 1\n"))
    expect(encodeErr(Codec.lines(), "a\nb")).toMatchObject({ _tag: "EncodeError", reason: "Delimiter" })
    expect(encodeErr(Codec.lines({ maxLength: 2 }), "abc")).toMatchObject({ _tag: "FrameTooLarge", reason: "Encode" })
  })
  it("the encoder and the decoder agree on the bound: a line of exactly maxLength bytes is written and read back, one more byte is refused by both", () => {
    for (const crlf of [true, false]) {
      for (const [maxLength, line] of [[0, ""], [1, "a"], [6, "line 1"], [6, "éèà"], [4, "𝄞"], [7, "a€€"]] as const) {
        const codec = Codec.lines({ maxLength, crlf })
        expect(b(line).length).toBe(maxLength)
        const wire = encodeOk(codec, line)
        expect(decodeOk(codec, [wire])).toEqual([line])
        expect(decodeOk(codec, oneByteChunks(wire))).toEqual([line])
        const over = line + "x"
        expect(encodeErr(codec, over)).toMatchObject({ _tag: "FrameTooLarge", reason: "Encode", limit: maxLength, size: maxLength + 1 })
        expect(decodeErr(codec, [b(over + "\n")])).toMatchObject({ _tag: "FrameTooLarge", reason: "Decode", limit: maxLength, size: maxLength + 1 })
      }
    }
    // ndjson bounds its JSON text the same way: "abcde" is 7 bytes as JSON.
    const ndjson = Codec.ndjson(Schema.String, { maxLength: 7 })
    expect(decodeOk(ndjson, [encodeOk(ndjson, "abcde")])).toEqual(["abcde"])
    expect(encodeErr(ndjson, "abcdef")).toMatchObject({ _tag: "FrameTooLarge", reason: "Encode", limit: 7, size: 8 })
    expect(decodeErr(ndjson, [b(`"abcdef"\n`)])).toMatchObject({ _tag: "FrameTooLarge", reason: "Decode", limit: 7, size: 8 })
  })
  it("every line the decoder gives back, the encoder writes back as the same bytes (strict UTF-8, without crlf)", () => {
    fc.assert(
      fc.property(fc.array(fc.fullUnicodeString({ maxLength: 12 }), { maxLength: 8 }), fc.nat(40), (parts, maxLength) => {
        const codec = Codec.lines({ maxLength, crlf: false })
        const wire = b(parts.map((part) => part + "\n").join(""))
        const decoded = Codec.decodeAll(codec, [wire])
        if (Result.isFailure(decoded)) expect(decoded.failure).toMatchObject({ _tag: "FrameTooLarge", reason: "Decode" })
        else expect(encodeAll(codec, decoded.success)).toEqual(wire)
      }),
      { numRuns: 500, seed: 4244 }
    )
  })
})

describe("Codec.lengthDelimited (tokio-util LengthDelimitedCodec cases)", () => {
  const abc = b("abcdefghi")
  it("one frame in one packet, big and little endian", () => {
    expect(decodeOk(Codec.lengthDelimited(), [concat([hex(0, 0, 0, 9), abc])])).toEqual([abc])
    expect(decodeOk(Codec.lengthDelimited({ endian: "little" }), [concat([hex(9, 0, 0, 0), abc])])).toEqual([abc])
  })
  it("one frame split into one-byte packets; many frames in many packets", () => {
    const wire = concat([hex(0, 0, 0, 9), abc, hex(0, 0, 0, 3), b("123"), hex(0, 0, 0, 0)])
    expect(decodeOk(Codec.lengthDelimited(), oneByteChunks(wire))).toEqual([abc, b("123"), hex()])
  })
  it("empty input yields nothing", () => {
    expect(decodeOk(Codec.lengthDelimited(), [])).toEqual([])
  })
  it("a length over the maximum fails on the head alone, before any payload is buffered", () => {
    const decoder = Codec.lengthDelimited({ maxFrameLength: 5 }).decoder()
    expect(decoder.decode(hex(0, 0, 0, 9), [])).toMatchObject({ _tag: "FrameTooLarge", limit: 5, size: 9, frame: 1 })
  })
  it("an oversize length is what the prefix declared, not bytes received: the error says \"declared\"", () => {
    // 1,000,000 in a 4-byte head, and nothing of the frame: the peer only announced it.
    const error = decodeErr(Codec.lengthDelimited({ maxFrameLength: 1024 }), [hex(0x00, 0x0f, 0x42, 0x40)])
    expect(error).toMatchObject({ _tag: "FrameTooLarge", reason: "Decode", limit: 1024, size: 1_000_000, declared: true, frame: 1 })
    expect(error!.message).toBe("the length prefix declared 1000000 bytes, more than the 1024-byte limit (frame 1)")
    // The same for a varint prefix; one cut short by the bound declares at least what it has so far.
    const varint = decodeErr(Codec.varintDelimited({ maxFrameLength: 1024 }), [hex(0xc0, 0x84, 0x3d)])
    expect(varint).toMatchObject({ size: 1_000_000, declared: true, frame: 1 })
    expect(varint!.message).toBe("the length prefix declared 1000000 bytes, more than the 1024-byte limit (frame 1)")
    const partial = decodeErr(Codec.varintDelimited({ maxFrameLength: 1000 }), [hex(0xff, 0xff)])
    expect(partial).toMatchObject({ declared: true })
    expect((partial as CodecError.FrameTooLarge).size).toBeUndefined()
    expect(partial!.message).toBe(
      "the length prefix declared more than the 1000-byte limit (frame 1): the first 2 bytes of the prefix already declare at least 16383 bytes"
    )
    // A line's bytes did come; an encoder's are being written.
    const line = decodeErr(Codec.lines({ maxLength: 6 }), [b("ok\nline 12\n")])
    expect(line).toMatchObject({ size: 7, frame: 2 })
    expect((line as CodecError.FrameTooLarge).declared).toBeUndefined()
    expect(line!.message).toBe("received 7 bytes, more than the 6-byte limit (line 2)")
    expect(encodeErr(Codec.lengthDelimited({ maxFrameLength: 4 }), b("hello"))!.message).toBe("writing 5 bytes, more than the 4-byte limit")
  })
  it("a frame of exactly the maximum is accepted", () => {
    expect(decodeOk(Codec.lengthDelimited({ maxFrameLength: 9 }), [concat([hex(0, 0, 0, 9), abc])])).toEqual([abc])
  })
  it("EOF inside the head or the payload: DecodeError \"bytes remaining on stream\"", () => {
    expect(decodeErr(Codec.lengthDelimited(), [hex(0, 0)])).toMatchObject({ _tag: "DecodeError", reason: "Truncated", detail: "bytes remaining on stream" })
    expect(decodeErr(Codec.lengthDelimited(), [concat([hex(0, 0, 0, 9), b("abc")])])).toMatchObject({ reason: "Truncated", frame: 1 })
  })
  it("1-, 2-, 3- and 8-byte length fields", () => {
    expect(decodeOk(Codec.lengthDelimited({ lengthFieldLength: 1 }), [concat([hex(9), abc])])).toEqual([abc])
    expect(decodeOk(Codec.lengthDelimited({ lengthFieldLength: 2 }), [concat([hex(0, 9), abc])])).toEqual([abc])
    expect(decodeOk(Codec.lengthDelimited({ lengthFieldLength: 3, endian: "little" }), [concat([hex(9, 0, 0), abc])])).toEqual([abc])
    expect(decodeOk(Codec.lengthDelimited({ lengthFieldLength: 8 }), [concat([hex(0, 0, 0, 0, 0, 0, 0, 9), abc])])).toEqual([abc])
  })
  it("a header offset: bytes before the length field are skipped", () => {
    const codec = Codec.lengthDelimited({ lengthFieldOffset: 4, lengthFieldLength: 2 })
    expect(decodeOk(codec, [concat([b("zzzz"), hex(0, 9), abc])])).toEqual([abc])
  })
  it("numSkip 0 with an adjustment keeps the whole head in the frame", () => {
    const codec = Codec.lengthDelimited({ lengthFieldOffset: 2, lengthFieldLength: 2, lengthAdjustment: 4, numSkip: 0 })
    const wire = concat([b("xx"), hex(0, 9), abc])
    expect(decodeOk(codec, [wire])).toEqual([wire])
    expect(decodeOk(codec, oneByteChunks(concat([wire, wire])))).toEqual([wire, wire])
  })
  it("a length that includes the head (adjustment -2)", () => {
    const codec = Codec.lengthDelimited({ lengthFieldLength: 2, lengthAdjustment: -2 })
    expect(decodeOk(codec, [concat([hex(0, 11), abc])])).toEqual([abc])
  })
  it("numSkip shorter than the head: the rest of the head starts the frame, even across chunks", () => {
    // A 1-byte tag, then a 2-byte length of the payload; numSkip 1 keeps the length in the frame.
    const codec = Codec.lengthDelimited({ lengthFieldOffset: 1, lengthFieldLength: 2, lengthAdjustment: 2, numSkip: 1 })
    const wire = concat([hex(7, 0, 3), b("abc"), hex(8, 0, 0)])
    expect(decodeOk(codec, [wire])).toEqual([concat([hex(0, 3), b("abc")]), hex(0, 0)])
    expect(decodeOk(codec, oneByteChunks(wire))).toEqual([concat([hex(0, 3), b("abc")]), hex(0, 0)])
  })
  it("a frame shorter than the carried head bytes leaves the rest for the next frame", () => {
    // numSkip 0 and adjustment -3: the 1-byte length field counts bytes before a 2-byte trailer of the head.
    const codec = Codec.lengthDelimited({ lengthFieldLength: 1, numSkip: 3, lengthAdjustment: 0 })
    const wire = concat([hex(2, 0xaa, 0xbb), b("hi"), hex(0, 0xcc, 0xdd)])
    expect(decodeOk(codec, [wire])).toEqual([b("hi"), hex()])
    expect(decodeOk(codec, oneByteChunks(wire))).toEqual([b("hi"), hex()])
  })
  it("an adjustment that makes the length negative is a DecodeError", () => {
    const codec = Codec.lengthDelimited({ lengthFieldLength: 1, lengthAdjustment: -10 })
    expect(decodeErr(codec, [hex(5)])).toMatchObject({ _tag: "DecodeError", reason: "InvalidLength" })
  })
  it("an 8-byte length above Number.MAX_SAFE_INTEGER is an error", () => {
    const codec = Codec.lengthDelimited({ lengthFieldLength: 8, maxFrameLength: Number.MAX_SAFE_INTEGER })
    expect(decodeErr(codec, [hex(0x00, 0x20, 0, 0, 0, 0, 0, 0)])).toMatchObject({ _tag: "FrameTooLarge" })
    expect(decodeErr(codec, [hex(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)])).toMatchObject({ _tag: "FrameTooLarge" })
  })
  it("the maximum is clamped to what the field can express", () => {
    const one = Codec.lengthDelimited({ lengthFieldLength: 1 })
    expect(encodeErr(one, new Uint8Array(256))).toMatchObject({ _tag: "FrameTooLarge", limit: 255 })
    expect(Result.isSuccess(one.encode(new Uint8Array(255)))).toBe(true)
    const adjusted = Codec.lengthDelimited({ lengthFieldLength: 1, lengthAdjustment: 1 })
    expect(Result.isSuccess(adjusted.encode(new Uint8Array(256)))).toBe(true)
  })
  it("encode writes len - adjustment and refuses a payload over the maximum", () => {
    expect(encodeOk(Codec.lengthDelimited({ lengthFieldLength: 2, lengthAdjustment: 2 }), b("hello"))).toEqual(concat([hex(0, 3), b("hello")]))
    expect(encodeOk(Codec.lengthDelimited({ lengthFieldLength: 2, lengthAdjustment: -2 }), b("hello"))).toEqual(concat([hex(0, 7), b("hello")]))
    expect(encodeErr(Codec.lengthDelimited({ maxFrameLength: 4 }), b("hello"))).toMatchObject({
      _tag: "FrameTooLarge",
      reason: "Encode",
      limit: 4,
      size: 5
    })
    expect(encodeErr(Codec.lengthDelimited({ lengthAdjustment: 10 }), b("hello"))).toMatchObject({ _tag: "EncodeError", reason: "InvalidLength" })
  })
  it("after an error the decoder stays failed", () => {
    const decoder = Codec.lengthDelimited({ maxFrameLength: 1 }).decoder()
    expect(decoder.decode(hex(0, 0, 0, 2), [])).toMatchObject({ _tag: "FrameTooLarge" })
    expect(decoder.decode(hex(0, 0, 0, 0), [])).toMatchObject({ _tag: "FrameTooLarge" })
  })
})

describe("Codec.varintDelimited", () => {
  const frames = [hex(), b("x"), new Uint8Array(127).fill(1), new Uint8Array(128).fill(2), new Uint8Array(70_000).fill(3)]

  it("decodes what it-length-prefixed encodes, at any chunking", () => {
    const wire = concat([...lp.encode(frames)])
    expect(decodeOk(Codec.varintDelimited(), [wire])).toEqual(frames)
    expect(decodeOk(Codec.varintDelimited(), cut(wire, [1, 2, 3, 130, 131, 300, 70_100]))).toEqual(frames)
  })

  it("it-length-prefixed decodes what it encodes", () => {
    const wire = encodeAll(Codec.varintDelimited(), frames)
    const decoded = [...lp.decode([wire])].map((list) => list.subarray())
    expect(decoded).toEqual(frames)
    // and the prefix bytes are identical
    expect(wire).toEqual(concat([...lp.encode(frames)]))
  })

  it("an endless varint (0x80 repeated) fails on its 10th byte", () => {
    const decoder = Codec.varintDelimited({ maxFrameLength: Number.MAX_SAFE_INTEGER }).decoder()
    for (let i = 1; i < 10; i++) expect(decoder.decode(hex(0x80), [])).toBeUndefined()
    expect(decoder.decode(hex(0x80), [])).toMatchObject({ _tag: "DecodeError", reason: "InvalidVarint" })
  })

  it("a prefix over the maximum fails as soon as it is read", () => {
    const decoder = Codec.varintDelimited({ maxFrameLength: 1000 }).decoder()
    expect(decoder.decode(hex(0xe9, 0x07), [])).toMatchObject({ _tag: "FrameTooLarge", size: 1001, limit: 1000 })
    // A large prefix fails on its first bytes, before it is complete.
    expect(Codec.varintDelimited({ maxFrameLength: 1000 }).decoder().decode(hex(0xff, 0xff), [])).toMatchObject({ _tag: "FrameTooLarge" })
  })

  it("EOF inside the prefix or the payload is Truncated", () => {
    expect(decodeErr(Codec.varintDelimited(), [hex(0x80)])).toMatchObject({ reason: "Truncated" })
    expect(decodeErr(Codec.varintDelimited(), [hex(3, 1)])).toMatchObject({ reason: "Truncated" })
  })
})

describe("Codec.json and Codec.ndjson", () => {
  it("a bad message is a DecodeError with the parse issue and its line number", () => {
    const wire = b(`{"from":"ann","text":"hi"}\n{"from":"bob"}\n{"from":"cy","text":"x"}\n`)
    const error = decodeErr(Codec.ndjson(Chat), [wire])
    expect(error).toMatchObject({ _tag: "DecodeError", reason: "Schema", frame: 2 })
    expect((error as CodecError.DecodeError).detail).toContain("text")
  })
  it("invalid JSON is a DecodeError with its line number", () => {
    expect(decodeErr(Codec.ndjson(Chat), [b(`{"from":"a","text":"b"}\n{oops\n`)])).toMatchObject({ reason: "InvalidJson", frame: 2 })
  })
  it("blank lines are skipped by default (and counted), or an error with blankLines: \"error\"", () => {
    const wire = b(`\n  \n{"from":"a","text":"b"}\r\n\n{bad\n`)
    const error = decodeErr(Codec.ndjson(Chat), [wire])
    expect(error).toMatchObject({ reason: "InvalidJson", frame: 5 })
    expect(decodeOk(Codec.ndjson(Chat), [b(`\n{"from":"a","text":"b"}\n \n`)])).toEqual([{ from: "a", text: "b" }])
    expect(decodeErr(Codec.ndjson(Chat, { blankLines: "error" }), [b(`\n`)])).toMatchObject({ reason: "InvalidJson", frame: 1 })
  })
  it("lines blank as String.prototype.trim has it (U+00A0, U+FEFF, U+3000, ...) are skipped like other blank lines, and counted", () => {
    for (const blank of ["\u00a0", "\ufeff", "\u3000", "\u2028", "\u00a0\t \ufeff", "\u1680\u2000\u200a\u202f\u205f", "\v\f"]) {
      expect(blank.trim()).toBe("")
      const wire = b(`{"from":"a","text":"b"}\n${blank}\n{"from":"c","text":"d"}\r\n${blank}\r\n{bad\n`)
      expect(decodeErr(Codec.ndjson(Chat), [wire])).toMatchObject({ reason: "InvalidJson", frame: 5 })
      // Split anywhere, and as the unterminated tail at the end.
      expect(decodeOk(Codec.ndjson(Chat), oneByteChunks(b(`${blank}\n{"from":"a","text":"b"}\n${blank}`)))).toEqual([{ from: "a", text: "b" }])
      // blankLines: "error" leaves the line to JSON.parse, which refuses it.
      expect(decodeErr(Codec.ndjson(Chat, { blankLines: "error" }), [b(`${blank}\n`)])).toMatchObject({ reason: "InvalidJson", frame: 1 })
    }
    // What trim keeps is not blank: U+200B (zero width space), U+0085 (next line), U+180E.
    for (const visible of ["\u200b", "\u0085", "\u180e"]) {
      expect(visible.trim()).toBe(visible)
      expect(decodeErr(Codec.ndjson(Chat), [b(`${visible}\n`)])).toMatchObject({ reason: "InvalidJson", frame: 1 })
    }
  })
  it("the encoder always ends with \\n and never emits a raw line break inside", () => {
    const encoded = encodeOk(Codec.ndjson(Chat), { from: "a", text: "two\nlines" })
    const text = new TextDecoder().decode(encoded)
    expect(text.endsWith("\n")).toBe(true)
    expect(text.indexOf("\n")).toBe(text.length - 1)
  })
  it("the encoder validates with the schema", () => {
    const error = encodeErr(Codec.ndjson(Chat), { from: 1 } as any)
    expect(error).toMatchObject({ _tag: "EncodeError", reason: "Schema" })
    // The issue itself, as Schema reports it.
    expect(SchemaIssue.isIssue((error as CodecError.EncodeError).cause)).toBe(true)
  })
  it("a transforming schema decodes and encodes both ways", () => {
    const Dated = Schema.Struct({ at: Schema.DateFromString })
    const codec = Codec.ndjson(Dated)
    const value = { at: new Date("2026-11-23T00:00:00.000Z") }
    expect(decodeOk(codec, [encodeOk(codec, value)])).toEqual([value])
  })
  it("json over lengthDelimited reports invalid UTF-8 with its frame number", () => {
    const framing = Codec.lengthDelimited()
    const wire = concat([encodeOk(framing, b(`{"from":"a","text":"b"}`)), encodeOk(framing, hex(0xff))])
    expect(decodeErr(Codec.json(Chat), [wire])).toMatchObject({ reason: "InvalidUtf8", frame: 2 })
  })
})

describe("Codec.json and Codec.ndjson check values exactly as Schema does", () => {
  // The JSON codecs take a fast path compiled from the schema for its common shapes; whatever it
  // accepts must be what Schema gives (keys, their order, values, prototypes), and what it refuses
  // must be Schema's own error. Random schemas, values made for them (effect's Arbitrary),
  // JSON-ified and sometimes bent (a key missing, one too many, keys reordered, a wrong type).
  const Keys = ["a", "b", "id", "0", "c"] as const
  /** A struct field: required, `optional` (absent or undefined) or `optionalKey` (absent only). */
  const field = (schema: Schema.Codec<any, any>, kind: "required" | "optional" | "optionalKey"): Schema.Codec<any, any> =>
    kind === "optional" ? Schema.optional(schema) : kind === "optionalKey" ? Schema.optionalKey(schema) : schema
  /**
   * A schema under test, and the same with every union "anyOf" to draw values from (a "oneOf"
   * union of overlapping members accepts nothing, so none can be drawn from it).
   */
  interface Case {
    readonly schema: Schema.Codec<any, any>
    readonly values: Schema.Codec<any, any>
    readonly shape: string
  }
  const leaf = (schema: Schema.Codec<any, any>, shape: string): Case => ({ schema, values: schema, shape })
  const cases = fc.letrec<{ case: Case }>((tie) => ({
    case: fc.oneof(
      { depthSize: "small" },
      fc.constantFrom(
        leaf(Schema.String, "String"),
        leaf(Schema.Number, "Number"),
        leaf(Schema.Boolean, "Boolean"),
        leaf(Schema.Null, "Null"),
        leaf(Schema.Unknown, "Unknown"),
        leaf(Schema.Literals(["x", "y"]), "Literals(x, y)"),
        leaf(Schema.Literal(1), "Literal(1)"),
        leaf(Schema.NullOr(Schema.String), "NullOr(String)"),
        leaf(Schema.Int, "Int"),
        leaf(Schema.NonEmptyString, "NonEmptyString"),
        leaf(Schema.NumberFromString, "NumberFromString"),
        leaf(Schema.Struct({}), "Struct({})"),
        leaf(Schema.Record(Schema.String, Schema.Number), "Record(String, Number)")
      ),
      fc.uniqueArray(fc.tuple(fc.constantFrom(...Keys), tie("case"), fc.constantFrom("required" as const, "optional" as const, "optionalKey" as const)), {
        selector: ([key]) => key,
        maxLength: 4
      }).map((fields): Case => ({
        schema: Schema.Struct(Object.fromEntries(fields.map(([key, c, kind]) => [key, field(c.schema, kind)]))),
        values: Schema.Struct(Object.fromEntries(fields.map(([key, c, kind]) => [key, field(c.values, kind)]))),
        shape: `{ ${fields.map(([key, c, kind]) => `${key}${kind === "required" ? "" : kind === "optional" ? "?" : "?:key"}: ${c.shape}`).join(", ")} }`
      })),
      tie("case").map((item): Case => ({ schema: Schema.Array(item.schema), values: Schema.Array(item.values), shape: `Array(${item.shape})` })),
      fc.array(tie("case"), { maxLength: 3 }).map((items): Case => ({
        schema: Schema.Tuple(items.map((item) => item.schema)),
        values: Schema.Tuple(items.map((item) => item.values)),
        shape: `[${items.map((item) => item.shape).join(", ")}]`
      })),
      fc.tuple(fc.array(tie("case"), { minLength: 1, maxLength: 3 }), fc.constantFrom("anyOf" as const, "oneOf" as const)).map(([members, mode]): Case => ({
        schema: Schema.Union(members.map((member) => member.schema), { mode }),
        values: Schema.Union(members.map((member) => member.values)),
        shape: `${mode}(${members.map((member) => member.shape).join(" | ")})`
      }))
    )
  })).case.map((c) => Object.assign(c, { [fc.toStringMethod]: () => c.shape }))
  /** `count` values of `schema` from effect's Arbitrary, reproducibly from `seed`. */
  const samples = (schema: Schema.Top, count: number, seed: number): ReadonlyArray<unknown> =>
    Effect.runSync(Arbitrary.sampleEffect(Arbitrary.schema(schema), { count, seed, size: 6 }))
  const jsonOf = (value: unknown): unknown => JSON.parse(JSON.stringify(value) ?? "null")
  /** What `bend` swaps in: other types, and the values checks refuse (1.5 for Int, "" for NonEmptyString). */
  const swaps: ReadonlyArray<unknown> = ["bent", 7, true, 1.5, "", null, undefined, -1]
  /**
   * Bends `value` now and then: drops, adds or reorders keys of an object, drops or adds an
   * element of an array, or swaps in another value.
   */
  const bend = (value: unknown, random: () => number): unknown => {
    if (Array.isArray(value)) {
      const items = value.map((item) => bend(item, random))
      const roll = random()
      return roll < 0.1 ? items.slice(1) : roll < 0.2 ? [...items, swaps[Math.floor(random() * swaps.length)]] : items
    }
    if (value === null || typeof value !== "object") {
      return random() < 0.15 ? swaps[Math.floor(random() * swaps.length)] : value
    }
    let entries = Object.entries(value).map(([key, item]) => [key, bend(item, random)] as [string, unknown])
    const roll = random()
    if (roll < 0.1) entries = entries.slice(1)
    else if (roll < 0.2) entries.push(["extra", 1])
    else if (roll < 0.4) entries.reverse()
    return Object.fromEntries(entries)
  }
  const same = (actual: unknown, expected: unknown) => {
    expect(actual).toStrictEqual(expected)
    expect(JSON.stringify(actual)).toBe(JSON.stringify(expected))
  }

  it("a struct comes out with its declared keys, in their order, whatever the order and extra keys of the JSON", () => {
    const Pair = Schema.Struct({ a: Schema.String, b: Schema.String })
    const Triple = Schema.Struct({ a: Schema.String, b: Schema.String, c: Schema.optional(Schema.Number) })
    const cases: ReadonlyArray<[Schema.Codec<any, any>, string, ReadonlyArray<string>]> = [
      [Pair, `{"a":"1","b":"2"}`, ["a", "b"]],
      [Pair, `{"b":"1","a":"2"}`, ["a", "b"]],
      [Pair, `{"a":"1","b":"2","x":0}`, ["a", "b"]],
      [Triple, `{"b":"1","a":"2"}`, ["a", "b"]],
      [Triple, `{"x":0,"a":"1","b":"2","c":3}`, ["a", "b", "c"]],
      [Triple, `{"c":3,"b":"2","a":"1"}`, ["a", "b", "c"]]
    ]
    for (const [schema, line, keys] of cases) {
      const [decoded] = decodeOk(Codec.ndjson(schema), [b(line + "\n")])
      expect(Object.keys(decoded)).toEqual(keys)
      expect(decoded).toStrictEqual(Schema.decodeUnknownSync(schema)(JSON.parse(line)))
    }
  })

  it("a property of the wrong type is Schema's error, also in an object with exactly the declared keys", () => {
    const Flat = Schema.Struct({ s: Schema.String, n: Schema.Number, b: Schema.Boolean, l: Schema.Literal("x") })
    for (const line of [`{"s":1,"n":1,"b":true,"l":"x"}`, `{"s":"","n":"1","b":true,"l":"x"}`, `{"s":"","n":1,"b":0,"l":"x"}`, `{"s":"","n":1,"b":false,"l":"y"}`]) {
      const reference = schemaDecode(Flat, JSON.parse(line))
      expect(Result.isFailure(reference)).toBe(true)
      const error = decodeErr(Codec.ndjson(Flat), [b(line + "\n")])
      expect(error).toMatchObject({ _tag: "DecodeError", reason: "Schema", detail: Result.isFailure(reference) ? reference.failure.message : "" })
      // The cause is the issue Schema reports.
      expect(Result.isFailure(reference) && (error as CodecError.DecodeError).cause).toStrictEqual(Result.isFailure(reference) ? reference.failure.issue : undefined)
    }
    expect(decodeOk(Codec.ndjson(Flat), [b(`{"s":"","n":1,"b":false,"l":"x"}\n`)])).toStrictEqual([{ s: "", n: 1, b: false, l: "x" }])
  })

  it("optional and optionalKey fields, absent, undefined or inherited, are what Schema makes of them", () => {
    const Fields = Schema.Struct({ a: Schema.optional(Schema.Number), b: Schema.optionalKey(Schema.Number), c: Schema.String })
    const codec = Codec.ndjson(Fields)
    const written = (value: unknown) => {
      const result = codec.encode(value as any)
      return Result.isSuccess(result) ? new TextDecoder().decode(result.success) : (result.failure as CodecError.EncodeError).detail
    }
    const reference = (value: unknown) => {
      const result = Schema.encodeUnknownResult(Fields)(value)
      return Result.isSuccess(result) ? JSON.stringify(result.success) + "\n" : result.failure.message
    }
    const inherited = (proto: object, own: object) => Object.assign(Object.create(proto), own)
    const values = [
      { c: "" },
      { a: undefined, c: "" },
      { b: undefined, c: "" },
      { a: 1, b: 2, c: "" },
      inherited({ a: 1 }, { c: "" }),
      inherited({ b: 2 }, { c: "x" }),
      inherited({ c: "inherited" }, {})
    ]
    for (const value of values) expect(written(value)).toBe(reference(value))
    // A peer's JSON has no undefined: an absent key, or a null.
    for (const line of [`{"c":""}`, `{"a":null,"c":""}`, `{"b":null,"c":""}`, `{"b":1,"a":2,"c":""}`]) {
      const result = Schema.decodeUnknownResult(Fields)(JSON.parse(line))
      const decoded = Codec.decodeAll(codec, [b(line + "\n")])
      if (Result.isSuccess(result)) expect(Result.getOrThrow(decoded)).toStrictEqual([result.success])
      else expect(Result.isFailure(decoded) && (decoded.failure as CodecError.DecodeError).detail).toBe(result.failure.message)
    }
  })
  it("an array whose elements come back as they are is the parsed array; one with a transformed element is a new array", () => {
    const Numbers = Schema.Struct({ xs: Schema.Array(Schema.Number), ys: Schema.Array(Schema.NumberFromString) })
    const [decoded] = decodeOk(Codec.ndjson(Numbers), [b(`{"xs":[1,2],"ys":["3"]}\n`)])
    expect(decoded).toStrictEqual({ xs: [1, 2], ys: [3] })
    expect(decoded).toStrictEqual(Schema.decodeUnknownSync(Numbers)({ xs: [1, 2], ys: ["3"] }))
  })

  it("decoding: the same values (key order too) and the same errors as Schema.decodeUnknownResult", () => {
    fc.assert(
      fc.property(cases, fc.integer({ min: 1, max: 4 }), fc.integer(), ({ schema, values: drawn }, count, seed) => {
        const random = prng(seed)
        // What goes on the wire is JSON: bent values are JSON-ified again, as the codec will see them.
        const values = samples(Schema.toEncoded(drawn), count, seed).map((sample) => (random() < 0.5 ? jsonOf(sample) : jsonOf(bend(jsonOf(sample), random))))
        const reference = Schema.decodeUnknownResult(schema)
        for (const codec of [Codec.ndjson(schema), Codec.json(schema)]) {
          const wire = codec.name === "ndjson"
            ? b(values.map((value) => JSON.stringify(value) + "\n").join(""))
            : concat(values.map((value) => encodeOk(Codec.lengthDelimited(), b(JSON.stringify(value)))))
          const decoded = Codec.decodeAll(codec, [wire])
          const expected: Array<unknown> = []
          let error: string | undefined
          for (const value of values) {
            const result = reference(value)
            if (Result.isFailure(result)) {
              error = result.failure.message
              break
            }
            expected.push(result.success)
          }
          if (error === undefined) same(Result.getOrThrow(decoded), expected)
          else {
            expect(Result.isFailure(decoded) && decoded.failure._tag === "DecodeError" && decoded.failure.detail).toBe(error)
          }
        }
      }),
      { numRuns: 400, seed: 4242 }
    )
  })

  it("encoding: the same JSON text and the same errors as Schema.encodeUnknownResult", () => {
    fc.assert(
      fc.property(cases, fc.integer(), ({ schema, values: drawn }, seed) => {
        const [sample] = samples(Schema.toType(drawn), 1, seed)
        const value = seed % 3 === 0 ? bend(sample, prng(seed)) : sample
        const encoded = Codec.ndjson(schema).encode(value)
        const reference = Schema.encodeUnknownResult(schema)(value)
        if (Result.isFailure(reference)) {
          expect(Result.isFailure(encoded) && encoded.failure._tag === "EncodeError" && encoded.failure.detail).toBe(reference.failure.message)
        } else {
          const text = JSON.stringify(reference.success)
          // Values JSON cannot carry are refused (InvalidJson) whichever way they were checked.
          if (Result.isSuccess(encoded)) expect(new TextDecoder().decode(encoded.success)).toBe(text + "\n")
          else expect(encoded.failure).toMatchObject({ _tag: "EncodeError", reason: "InvalidJson" })
        }
      }),
      { numRuns: 400, seed: 4243 }
    )
  })
})

describe("Codec.decode / Codec.encode as Stream combinators (no socket)", () => {
  it.effect("decodes a chunked byte stream, emitting frames before the error", () =>
    Effect.gen(function*() {
      const source = Stream.make(b("one\ntw"), b("o\r"), b("\nthree"))
      // One array of three byte arrays, then one pull per byte array: the same lines.
      expect(yield* source.pipe(Codec.decode(Codec.lines()), Stream.runCollect)).toEqual(["one", "two", "three"])
      expect(yield* source.pipe(Stream.rechunk(1), Codec.decode(Codec.lines()), Stream.runCollect)).toEqual(["one", "two", "three"])

      const collected: Array<string> = []
      const error = yield* Stream.make(b("a\n"), hex(0xff, 0x0a)).pipe(
        Codec.decode(Codec.lines()),
        Stream.runForEach((line) => Effect.sync(() => collected.push(line))),
        Effect.flip
      )
      expect(collected).toEqual(["a"])
      expect(error).toMatchObject({ _tag: "DecodeError", reason: "InvalidUtf8", frame: 2 })
    }))

  it.effect("encode then decode is the identity, and upstream errors pass through", () =>
    Effect.gen(function*() {
      const values = [{ from: "a", text: "1" }, { from: "b", text: "2" }]
      const back = yield* Stream.fromIterable(values).pipe(
        Codec.encode(Codec.ndjson(Chat)),
        Codec.decode(Codec.ndjson(Chat)),
        Stream.runCollect
      )
      expect(back).toEqual(values)
      const failed = yield* Stream.fail("upstream" as const).pipe(Codec.decode(Codec.lines()), Stream.runDrain, Effect.flip)
      expect(failed).toBe("upstream")
    }))

  it.effect("the end of the stream is the decoder's end: a truncated frame fails after the frames before it", () =>
    Effect.gen(function*() {
      const codec = Codec.lengthDelimited()
      const collected: Array<Uint8Array> = []
      const error = yield* Stream.make(encodeOk(codec, b("one")), hex(0, 0, 0, 9), b("abc")).pipe(
        Stream.rechunk(1),
        Codec.decode(codec),
        Stream.runForEach((frame) => Effect.sync(() => collected.push(frame))),
        Effect.flip
      )
      expect(collected).toEqual([b("one")])
      expect(error).toMatchObject({ _tag: "DecodeError", reason: "Truncated", frame: 2 })
      // And a tail line at the end is a line.
      expect(yield* Stream.make(b("a\nb")).pipe(Codec.decode(Codec.lines()), Stream.runCollect)).toEqual(["a", "b"])
    }))

  it.effect("encode emits the frames before a refused value, then fails with its error", () =>
    Effect.gen(function*() {
      const written: Array<string> = []
      const error = yield* Stream.make("a", "b\nc", "d").pipe(
        Codec.encode(Codec.lines()),
        Stream.runForEach((bytes) => Effect.sync(() => written.push(new TextDecoder().decode(bytes)))),
        Effect.flip
      )
      expect(written).toEqual(["a\n"])
      expect(error).toMatchObject({ _tag: "EncodeError", reason: "Delimiter" })
    }))

  it.effect("each run of a decoded stream has its own decoder", () =>
    Effect.gen(function*() {
      const lines = Stream.make(b("a\nb"), b("c\n")).pipe(Stream.rechunk(1), Codec.decode(Codec.lines()))
      // The first run stops with "b" held; a decoder shared between runs would begin the next with it ("ba").
      expect(yield* lines.pipe(Stream.take(1), Stream.runCollect)).toEqual(["a"])
      expect(yield* Stream.runCollect(lines)).toEqual(["a", "bc"])
    }))
})

describe("Found by fuzzing (issue 12): each case failed before its fix", () => {
  const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth)
  /** An output array that throws once a decoder pushes more than `limit` frames (a decoder that no longer advances). */
  const guardedOut = <A>(limit: number): Array<A> => {
    const out: Array<A> = []
    out.push = (...items: Array<A>) => {
      if (out.length + items.length > limit) throw new Error(`more than ${limit} frames: the decoder does not advance`)
      return Array.prototype.push.apply(out, items)
    }
    return out
  }

  it("a value nested 3,000 deep is a DecodeError (Schema), not a stack overflow while printing the issue", () => {
    const line = nested(3000)
    for (const codec of [Codec.ndjson(Chat), Codec.json(Chat), Codec.json(Chat, { framing: Codec.varintDelimited() })]) {
      const wire = codec.name === "ndjson" ? b(line + "\n") : encodeOk(Codec.json(Schema.Unknown, { framing: codec.name.includes("varint") ? Codec.varintDelimited() : Codec.lengthDelimited() }), JSON.parse(line))
      const error = decodeErr(codec, [wire])
      expect(error).toMatchObject({ _tag: "DecodeError", reason: "Schema", frame: 1 })
      // Effect 4's formatter prints the issue without the value ("Expected object"); one that
      // printed the value would overflow the stack, and the codec would then say so instead.
      const reference = schemaDecode(Chat, JSON.parse(line))
      expect([Result.isFailure(reference) && reference.failure.message, "_tag: a value nested too deeply to print"]).toContain(
        (error as CodecError.DecodeError).detail?.replace(/^\w+: a value/, "_tag: a value")
      )
    }
  })

  it("a recursive schema checking a value nested deeper than the stack is a DecodeError", () => {
    interface Tree {
      readonly c: ReadonlyArray<Tree>
    }
    const Tree: Schema.Codec<Tree> = Schema.Struct({ c: Schema.Array(Schema.suspend(() => Tree)) })
    const depth = 20_000
    const line = '{"c":['.repeat(depth) + "]}".repeat(depth)
    const error = decodeErr(Codec.ndjson(Tree), [b(line + "\n")])
    expect(error).toMatchObject({ _tag: "DecodeError", reason: "Schema", frame: 1, unit: "line" })
    // A shallow one still decodes.
    expect(decodeOk(Codec.ndjson(Tree), [b('{"c":[{"c":[]}]}\n')])).toEqual([{ c: [{ c: [] }] }])
  })

  it("lengthDelimited with numSkip 0: an empty frame that would take no bytes is an error, not endless empty frames", () => {
    const decoder = Codec.lengthDelimited({ lengthFieldLength: 1, numSkip: 0 }).decoder()
    const out = guardedOut<Uint8Array>(1_000)
    expect(decoder.decode(hex(0), out)).toMatchObject({ _tag: "DecodeError", reason: "InvalidLength", frame: 1 })
    expect(out.length).toBe(0)
    // The same when the head spans chunks, and after good frames (tokio's "length includes the head").
    const codec = Codec.lengthDelimited({ lengthFieldLength: 2, numSkip: 0 })
    const spanning = codec.decoder()
    const frames = guardedOut<Uint8Array>(1_000)
    expect(spanning.decode(hex(0, 3, 9, 0), frames)).toBeUndefined()
    expect(spanning.decode(hex(0), frames)).toMatchObject({ reason: "InvalidLength", frame: 2 })
    expect([...frames]).toEqual([hex(0, 3, 9)])
  })

  it("400,000 one-byte chunks without a line break are held compactly (heap + buffers grow < 4 MiB; were ~84 MiB)", () => {
    const codecs = [Codec.lines(), Codec.ndjson(Schema.Unknown)] as Array<Codec.Codec<unknown>>
    for (const codec of codecs) {
      const decoder = codec.decoder()
      const out: Array<unknown> = []
      gc()
      const before = memory()
      let errors = 0
      for (let i = 0; i < 400_000; i++) {
        const chunk = new Uint8Array(1)
        chunk[0] = 0x20
        if (decoder.decode(chunk, out) !== undefined) errors++
      }
      expect(errors).toBe(0)
      gc()
      const grown = memory() - before
      expect(grown).toBeLessThan(4 * 1024 * 1024)
      expect((decoder as unknown as { retained: number }).retained).toBeLessThanOrEqual(2 * 400_000)
      expect(decoder.decode(b("\n"), out)).toBeUndefined()
      expect(out.length).toBe(codec.name === "lines" ? 1 : 0)
    }
  })

  it("a large bound and a large announced length allocate as bytes arrive: no RangeError, 64 KiB up front", () => {
    const varint = Codec.varintDelimited({ maxFrameLength: 2 ** 40 }).decoder()
    // 2^35 as LEB128: 0x80 0x80 0x80 0x80 0x80 0x01
    expect(varint.decode(hex(0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 7), [])).toBeUndefined()
    expect((varint as unknown as { retained: number }).retained).toBeLessThanOrEqual(64 * 1024)
    expect(varint.end([])).toMatchObject({ _tag: "DecodeError", reason: "Truncated", frame: 1 })

    const eight = Codec.lengthDelimited({ lengthFieldLength: 8, maxFrameLength: Number.MAX_SAFE_INTEGER }).decoder()
    expect(eight.decode(hex(0, 0, 1, 0, 0, 0, 0, 0, 7, 7), [])).toBeUndefined()
    expect((eight as unknown as { retained: number }).retained).toBeLessThanOrEqual(64 * 1024 + 8)
    expect(eight.end([])).toMatchObject({ reason: "Truncated" })

    // A frame larger than the first allocation still arrives whole, in whatever chunks.
    const big = Uint8Array.from({ length: 200_000 }, (_, i) => i % 251)
    const wire = encodeAll(Codec.varintDelimited(), [big, hex(1)])
    expectSame(decodeOk(Codec.varintDelimited(), cut(wire, [3, 70_000, 70_001, 150_000])), [big, hex(1)])
  })

  it("a 3 MiB frame in 64 KiB chunks: its buffer grows with what arrived (64 KiB staging, then at most 16x), and it arrives whole", () => {
    const big = Uint8Array.from({ length: 3 * 1024 * 1024 }, (_, i) => (i * 7) % 256)
    for (const codec of [Codec.varintDelimited(), Codec.lengthDelimited()]) {
      const wire = encodeAll(codec, [big])
      const decoder = codec.decoder()
      const out: Array<Uint8Array> = []
      let fed = 0
      let worst = 0
      for (let at = 0; at < wire.length; at += 64 * 1024) {
        const chunk = wire.subarray(at, at + 64 * 1024)
        fed += chunk.length
        expect(decoder.decode(chunk, out)).toBeUndefined()
        const retained = (decoder as unknown as { retained: number }).retained
        if (out.length === 0) worst = Math.max(worst, retained / fed)
        expect(retained).toBeLessThanOrEqual(64 * 1024 + 8 + Math.min(big.length, Math.max(64 * 1024, 16 * fed)))
      }
      expect(out.length).toBe(1)
      expectSame(out, [big])
      expect(worst).toBeLessThanOrEqual(17)
    }
  })

  it("lines({ utf8: \"replace\" }) bounds the bytes received, the same in one chunk as in three", () => {
    const codec = Codec.lines({ utf8: "replace", maxLength: 3 })
    const wire = hex(0xff, 0xff, 0x0a)
    expect(decodeOk(codec, [wire])).toEqual(["\uFFFD\uFFFD"])
    expect(decodeOk(codec, oneByteChunks(wire))).toEqual(["\uFFFD\uFFFD"])
    const over = hex(0xff, 0xff, 0xff, 0xff, 0x0a)
    expect(decodeErr(codec, [over])).toMatchObject({ _tag: "FrameTooLarge", frame: 1 })
    expect(decodeErr(codec, oneByteChunks(over))).toMatchObject({ _tag: "FrameTooLarge", frame: 1 })
  })

  it("the lines encoder refuses what the decoder would not give back: a trailing \\r (crlf), a lone surrogate", () => {
    expect(encodeErr(Codec.lines(), "a\r")).toMatchObject({ _tag: "EncodeError", reason: "Delimiter" })
    expect(encodeErr(Codec.lines(), "a\uD800b")).toMatchObject({ _tag: "EncodeError", reason: "InvalidUnicode" })
    const keep = Codec.lines({ crlf: false })
    expect(decodeOk(keep, [encodeOk(keep, "a\r")])).toEqual(["a\r"])
  })

  it("lengthDelimited: the encoder checks the length field against the bound, as the decoder does", () => {
    // The field counts the head (adjustment -1): a 10-byte payload needs 11 in the field.
    const codec = Codec.lengthDelimited({ lengthFieldLength: 1, lengthAdjustment: -1, maxFrameLength: 10 })
    expect(encodeErr(codec, new Uint8Array(10))).toMatchObject({ _tag: "FrameTooLarge", reason: "Encode", limit: 10, size: 11 })
    const nine = new Uint8Array(9).fill(9)
    expect(decodeOk(codec, [encodeOk(codec, nine)])).toEqual([nine])
  })

  it("lengthDelimited: a positive adjustment does not let the encoder write a field it cannot hold", () => {
    // tokio clamps the maximum to 255 + 7 in payload terms; the field itself still holds at most 255.
    const codec = Codec.lengthDelimited({ lengthFieldLength: 1, lengthAdjustment: 7, maxFrameLength: Number.MAX_SAFE_INTEGER })
    const most = new Uint8Array(262).fill(1)
    expect(decodeOk(codec, [encodeOk(codec, most)])).toEqual([most])
    expect(encodeErr(codec, new Uint8Array(263))).toMatchObject({ _tag: "FrameTooLarge", limit: 255, size: 256 })
  })

  it("lengthDelimited: the encoder writes the offset and skipped bytes (as zeros), so its frames decode", () => {
    const codec = Codec.lengthDelimited({ lengthFieldOffset: 2, lengthFieldLength: 2, numSkip: 6 })
    const wire = encodeOk(codec, b("abc"))
    expect(wire).toEqual(concat([hex(0, 0, 0, 3, 0, 0), b("abc")]))
    expect(decodeOk(codec, [wire])).toEqual([b("abc")])
  })

  it("lengthDelimited keeping the head (numSkip 0): the value carries its head, checked; a wrong one is refused", () => {
    // tokio's "length includes the head, keep the head".
    const codec = Codec.lengthDelimited({ lengthFieldLength: 2, numSkip: 0 })
    const frame = concat([hex(0, 5), b("abc")])
    expect(encodeOk(codec, frame)).toEqual(frame)
    expect(decodeOk(codec, [frame])).toEqual([frame])
    expect(encodeErr(codec, concat([hex(0, 9), b("abc")]))).toMatchObject({ _tag: "EncodeError", reason: "InvalidLength" })
    expect(encodeErr(codec, hex(0))).toMatchObject({ _tag: "EncodeError", reason: "InvalidLength" })
  })

  it("the JSON encoders refuse numbers JSON cannot carry (it would write null)", () => {
    const Point = Schema.Struct({ x: Schema.Number, tags: Schema.Array(Schema.Unknown) })
    for (const codec of [Codec.ndjson(Point), Codec.json(Point)]) {
      for (const value of [{ x: NaN, tags: [] }, { x: Infinity, tags: [] }, { x: 1, tags: [undefined] }, { x: 1, tags: [() => 1] }]) {
        expect(encodeErr(codec, value)).toMatchObject({ _tag: "EncodeError", reason: "InvalidJson" })
      }
      const fine = { x: 1, tags: [null, "null"] }
      expect(decodeOk(codec, [encodeOk(codec, fine)])).toEqual([fine])
    }
  })

  it("errors of line-based codecs name the line; frame-based ones the frame; the message carries the Schema issue", () => {
    const ndjson = decodeErr(Codec.ndjson(Chat), [b(`{"from":"a","text":"b"}\n\n{"from":1,"text":"c"}\n`)])!
    expect(ndjson).toMatchObject({ reason: "Schema", frame: 3, unit: "line" })
    expect(ndjson.message).toMatch(/^Schema in line 3: /)
    expect(ndjson.message).toContain("from")
    expect(decodeErr(Codec.lines({ maxLength: 2 }), [b("ab\nabc\n")])!.message).toContain("(line 2)")
    const framing = Codec.lengthDelimited()
    const json = decodeErr(Codec.json(Chat), [encodeAll(framing, [b(`{"from":"a","text":"b"}`), b(`{"from":1}`)])])!
    expect(json).toMatchObject({ reason: "Schema", frame: 2 })
    expect(json.message).toMatch(/^Schema in frame 2: /)
  })
})

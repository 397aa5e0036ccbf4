import { describe, expect, it } from "@effect/vitest"
import * as Codec from "@bytechannel/core/Codec"
import * as Schema from "effect/Schema"
import fc from "fast-check"

// `ndjson` parses the lines one chunk completes with one `JSON.parse` of `[` + lines joined by `,` +
// `]` when that is exactly the same as parsing each line (internal/codec/json.ts `makeBatch`). Fed one
// byte at a time, every line is parsed on its own: the reference. Whatever the lines, both must give
// the same values, then the same error (line number and text included).

const utf8 = new TextEncoder()

/** The values pushed and the error, feeding `chunks` to a fresh decoder of `codec`. */
const run = <A>(codec: Codec.Codec<A>, chunks: ReadonlyArray<Uint8Array>) => {
  const decoder = codec.decoder()
  const values: Array<A> = []
  let error: unknown
  for (const chunk of chunks) {
    error = decoder.decode(chunk, values)
    if (error) break
  }
  if (!error) error = decoder.end(values)
  const fields = error as { _tag: string; reason: string; frame?: number; unit?: string; detail?: string } | undefined
  return { values, error: fields && { tag: fields._tag, reason: fields.reason, frame: fields.frame, unit: fields.unit, detail: fields.detail } }
}

const Chat = Schema.Struct({ from: Schema.String, text: Schema.String })
const codecs = [Codec.ndjson(Schema.Unknown), Codec.ndjson(Chat), Codec.ndjson(Schema.Unknown, { blankLines: "error" }), Codec.ndjson(Schema.Unknown, { crlf: false })]

const expectSameAsLineByLine = (text: string) => {
  const bytes = utf8.encode(text)
  const byteByByte = Array.from(bytes, (_, i) => bytes.subarray(i, i + 1))
  for (const codec of codecs) expect(run(codec, [bytes])).toStrictEqual(run(codec, byteByByte))
}

// Lines that a batch parse without its guards would read as other values than the lines do: an
// object spread over two lines, two values on one line (which keeps the count of values right),
// an array spread over two lines, a string spread over two lines.
const tricky = [
  `{"a":1`,
  `"b":2}`,
  `{"from":"a","text":"b"},{"from":"c","text":"d"}`,
  `{},{}`,
  `{"a":[1`,
  `{"b":2}]}`,
  `{"s":"x`,
  `y"}`,
  `{"from":"a","text":"b"}`,
  `{"from":"a","text":"b"}\r`,
  `{"from":"a","text":"[b]"}`,
  `{"from":"a","text":"b,c"}`,
  `{"from":1,"text":"b"}`,
  `{"x":{"y":{"z":null}}}`,
  `{}`,
  `{`,
  `}`,
  ``,
  ` `,
  `\r`,
  `1`,
  `"s"`,
  `[1,2]`,
  `{"a":1}}`,
  `{{}`,
  ` {"from":"a","text":"b"}`
]

describe("Codec.ndjson parses the lines of a chunk together exactly as one by one", () => {
  it("an object over two lines and two objects on one line (the count of values still right)", () => {
    const text = `{"from":"a","text":"b"}\n{"a":1\n"b":2}\n{},{}\n`
    expectSameAsLineByLine(text)
    expect(run(Codec.ndjson(Schema.Unknown), [utf8.encode(text)]).error).toMatchObject({ reason: "InvalidJson", frame: 2 })
  })

  it("an array over two lines and two objects on one line", () => {
    const text = `{"a":[1\n{"b":2}]}\n{},{}\n`
    expectSameAsLineByLine(text)
    expect(run(Codec.ndjson(Schema.Unknown), [utf8.encode(text)]).error).toMatchObject({ reason: "InvalidJson", frame: 1 })
  })

  it("a schema error in the middle: the values before it, then its line", () => {
    const text = `{"from":"a","text":"b"}\n{"from":"c","text":"d"}\r\n{"from":1,"text":"e"}\n{"from":"f","text":"g"}\n`
    expectSameAsLineByLine(text)
    expect(run(Codec.ndjson(Chat), [utf8.encode(text)])).toMatchObject({
      values: [{ from: "a", text: "b" }, { from: "c", text: "d" }],
      error: { reason: "Schema", frame: 3, unit: "line" }
    })
  })

  it("any mix of tricky lines, in one chunk", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...tricky), { minLength: 1, maxLength: 12 }), fc.boolean(), (lines, trailing) => {
        expectSameAsLineByLine(lines.join("\n") + (trailing ? "\n" : ""))
      }),
      { numRuns: 2000 }
    )
  })
})

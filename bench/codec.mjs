// Codec decode throughput, in process: bytechannel's decoders (plain loop, and through the Effect
// Stream combinator) against it-length-prefixed, split2, node:readline and ndjson, and against
// hand-written loops (the obvious fast way, with no bounds and no strict UTF-8), fed the same bytes
// in 64 KiB chunks.
import { Codec } from "@bytechannel/core"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import * as lp from "it-length-prefixed"
import ndjson from "ndjson"
import { Readable } from "node:stream"
import { StringDecoder } from "node:string_decoder"
import { createInterface } from "node:readline"
import split2 from "split2"
import { chunked, compare, emit, quick } from "./lib.mjs"

const CHUNK = 64 * 1024

const viaDecoder = (codec, chunks) => () => {
  const decoder = codec.decoder()
  let count = 0
  const out = []
  for (const chunk of chunks) {
    decoder.decode(chunk, out)
    count += out.length
    out.length = 0
  }
  decoder.end(out)
  return count + out.length
}

const viaStream = (codec, chunks) => () =>
  Effect.runPromise(Stream.fromIterable(chunks).pipe(Stream.rechunk(1), Codec.decode(codec), Stream.runCount))

const viaNodeStream = (transform, chunks) => () =>
  new Promise((resolve, reject) => {
    let count = 0
    const source = Readable.from(chunks, { objectMode: false })
    source.pipe(transform()).on("data", () => count++).on("end", () => resolve(count)).on("error", reject)
  })

// The obvious fast loop over text split on "\n": a StringDecoder (UTF-8 split across chunks), then
// indexOf over the chunk's text; `map` turns a line into a frame. What a careful person writes by
// hand, to measure how much bytechannel's bounds, strict UTF-8 and \r handling cost.
const viaHandLoop = (map, chunks) => () => {
  const text = new StringDecoder("utf8")
  const out = []
  let tail = ""
  let count = 0
  for (const chunk of chunks) {
    const part = tail + text.write(chunk)
    let start = 0
    for (let end = part.indexOf("\n"); end !== -1; end = part.indexOf("\n", start)) {
      out.push(map(part.slice(start, end)))
      start = end + 1
    }
    tail = part.slice(start)
    count += out.length
    out.length = 0
  }
  tail += text.end()
  return tail.length > 0 ? count + 1 : count
}
const identity = (line) => line

// 1. varint-delimited frames: 100 B, 16 KiB, and 1 MiB (each spanning chunks: the path that
// allocates a frame's buffer as its bytes arrive)
for (const [label, size, frames] of [["100 B", 100, quick ? 50_000 : 300_000], ["16 KiB", 16 * 1024, quick ? 1_000 : 6_000], ["1 MiB", 1024 * 1024, quick ? 20 : 100]]) {
  const payload = new Uint8Array(size).fill(7)
  const wire = Buffer.concat([...lp.encode(Array.from({ length: frames }, () => payload))])
  const chunks = chunked(wire, CHUNK)
  const check = (n) => {
    if (n !== frames) throw new Error(`decoded ${n} frames, expected ${frames}`)
    return n
  }
  emit(await compare({
    scenario: `decode varint-delimited ${label} frames (64 KiB chunks)`,
    unit: "frames/s",
    baseline: "bytechannel varintDelimited",
    contenders: [
      { name: "bytechannel varintDelimited", run: () => check(viaDecoder(Codec.varintDelimited(), chunks)()) },
      { name: "bytechannel via Stream", run: async () => check(await viaStream(Codec.varintDelimited(), chunks)()) },
      {
        name: "it-length-prefixed",
        run: () => {
          let n = 0
          for (const list of lp.decode(chunks)) {
            list.subarray()
            n++
          }
          return check(n)
        }
      },
      {
        // How it is used with it-ws / it-pipe: an async source.
        name: "it-length-prefixed (async)",
        run: async () => {
          let n = 0
          for await (const list of lp.decode((async function*() { yield* chunks })())) {
            list.subarray()
            n++
          }
          return check(n)
        }
      }
    ]
  }))
}

// 2. lines of 80 bytes
{
  const lines = quick ? 200_000 : 1_000_000
  const line = "x".repeat(79) + "\n"
  const wire = Buffer.from(line.repeat(lines))
  const chunks = chunked(wire, CHUNK)
  const check = (n) => {
    if (n !== lines) throw new Error(`decoded ${n} lines, expected ${lines}`)
    return n
  }
  emit(await compare({
    scenario: "decode 80 B lines (64 KiB chunks)",
    unit: "lines/s",
    baseline: "bytechannel lines",
    contenders: [
      { name: "bytechannel lines", run: () => check(viaDecoder(Codec.lines(), chunks)()) },
      { name: "bytechannel via Stream", run: async () => check(await viaStream(Codec.lines(), chunks)()) },
      { name: "hand-written loop (StringDecoder + indexOf)", run: () => check(viaHandLoop(identity, chunks)()) },
      { name: "split2", run: async () => check(await viaNodeStream(() => split2(), chunks)()) },
      {
        name: "node:readline",
        run: async () => {
          let n = 0
          const rl = createInterface({ input: Readable.from(chunks), crlfDelay: Infinity })
          for await (const _ of rl) n++
          return check(n)
        }
      }
    ]
  }))
}

// 3. NDJSON: small objects
{
  const count = quick ? 50_000 : 200_000
  const Message = Schema.Struct({ id: Schema.Number, from: Schema.String, text: Schema.String })
  const wire = Buffer.from(
    Array.from({ length: count }, (_, i) => JSON.stringify({ id: i, from: "ann", text: `message number ${i}` }) + "\n").join("")
  )
  const chunks = chunked(wire, CHUNK)
  const check = (n) => {
    if (n !== count) throw new Error(`decoded ${n} objects, expected ${count}`)
    return n
  }
  emit(await compare({
    scenario: "decode NDJSON small objects (64 KiB chunks)",
    unit: "objects/s",
    baseline: "bytechannel ndjson (Schema.Unknown)",
    contenders: [
      { name: "bytechannel ndjson (Schema.Unknown)", run: () => check(viaDecoder(Codec.ndjson(Schema.Unknown), chunks)()) },
      { name: "bytechannel ndjson (Schema.Struct)", run: () => check(viaDecoder(Codec.ndjson(Message), chunks)()) },
      { name: "bytechannel via Stream (Schema.Struct)", run: async () => check(await viaStream(Codec.ndjson(Message), chunks)()) },
      { name: "hand-written loop (split + JSON.parse)", run: () => check(viaHandLoop(JSON.parse, chunks)()) },
      { name: "ndjson", run: async () => check(await viaNodeStream(() => ndjson.parse(), chunks)()) }
    ],
    notes: ["Schema.Unknown parses only, like the ndjson package; Schema.Struct also validates every object."]
  }))
}

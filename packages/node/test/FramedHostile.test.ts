/**
 * The codec fuzz cases through `ByteChannel.framed` on a real NodeServer: a peer sending bytes a
 * codec cannot decode gets the frames before the bad one, then a close with 1009 (too large) or
 * 1007 (undecodable) — never 1011, which would mean the handler died — and the server keeps
 * serving everyone else. The handler fails with the typed codec error, never a defect.
 */
import { ByteChannel, Codec, CodecError } from "@bytechannel/core"
import { NodeConnector, NodeServer } from "@bytechannel/node"
import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { prng } from "../../core/test/utils.js"
import { concat } from "./fixtures.js"

const ACK = new Uint8Array([6])
const utf8 = new TextEncoder()
const b = (text: string) => utf8.encode(text)
const hex = (...values: Array<number>) => new Uint8Array(values)

const Chat = Schema.Struct({ from: Schema.String, text: Schema.String })

interface Case {
  readonly name: string
  readonly codec: Codec.Codec<any>
  /** One WebSocket message each. */
  readonly messages: ReadonlyArray<Uint8Array>
}

/** What the server should do with `messages`: the frames it acknowledges, then the close code (undefined: no error before EOF). */
const expected = (c: Case) => {
  const decoder = c.codec.decoder()
  const out: Array<unknown> = []
  for (const message of c.messages) {
    const error = decoder.decode(message, out)
    if (error) return { frames: out.length, code: error._tag === "FrameTooLarge" ? 1009 : 1007 }
  }
  return { frames: out.length, code: undefined }
}

const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth)
const big = Uint8Array.from({ length: 200_000 }, (_, i) => i % 253)
const chunks = (bytes: Uint8Array, size: number) =>
  Array.from({ length: Math.ceil(bytes.length / size) }, (_, i) => bytes.subarray(i * size, (i + 1) * size))

/** The defects of issue 12, each as a peer would send it. */
const named: ReadonlyArray<Case> = [
  { name: "ndjson with a Struct, one line nested 3,000 deep", codec: Codec.ndjson(Chat), messages: [b(`{"from":"a","text":"b"}\n${nested(3000)}\n`)] },
  {
    name: "json over lengthDelimited, a frame nested 3,000 deep",
    codec: Codec.json(Chat),
    messages: [
      Result.getOrThrow(Codec.json(Schema.Unknown).encode({ from: "a", text: "b" })),
      Result.getOrThrow(Codec.json(Schema.Unknown).encode(JSON.parse(nested(3000))))
    ]
  },
  { name: "lengthDelimited numSkip 0, an empty frame", codec: Codec.lengthDelimited({ lengthFieldLength: 1, numSkip: 0 }), messages: [hex(2, 9), hex(0)] },
  { name: "lines, 100 one-byte messages without a line break", codec: Codec.lines({ maxLength: 64 }), messages: Array.from({ length: 100 }, () => b("a")) },
  { name: "lines utf8 replace, ff ff 0a in three messages then a long line", codec: Codec.lines({ utf8: "replace", maxLength: 3 }), messages: [hex(0xff), hex(0xff), hex(0x0a), hex(0xff, 0xff, 0xff, 0xff, 0x0a)] },
  {
    name: "varintDelimited with a 2^40 bound: a 200 KB frame in 7 KB messages, then an endless varint",
    codec: Codec.varintDelimited({ maxFrameLength: 2 ** 40 }),
    messages: [...chunks(Result.getOrThrow(Codec.varintDelimited().encode(big)), 7_000), new Uint8Array(11).fill(0x80)]
  },
  {
    name: "lengthDelimited 8-byte field, max 2^53-1: a frame, then a length above 2^53",
    codec: Codec.lengthDelimited({ lengthFieldLength: 8, maxFrameLength: Number.MAX_SAFE_INTEGER }),
    messages: [concat([hex(0, 0, 0, 0, 0, 0, 0, 1), hex(7)]), hex(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)]
  }
]

/** Random hostile inputs per codec, from valid frames with bytes changed or cut, kept when they fail before EOF. */
const random = (() => {
  const codecs: ReadonlyArray<[string, Codec.Codec<any>, (r: () => number) => unknown]> = [
    ["lines", Codec.lines({ maxLength: 40 }), (r) => "x".repeat(Math.floor(r() * 50))],
    ["lengthDelimited 2-byte, adjustment -2", Codec.lengthDelimited({ lengthFieldLength: 2, lengthAdjustment: -2, maxFrameLength: 64 }), (r) => new Uint8Array(Math.floor(r() * 60))],
    ["varintDelimited", Codec.varintDelimited({ maxFrameLength: 64 }), (r) => new Uint8Array(Math.floor(r() * 80))],
    ["ndjson", Codec.ndjson(Chat, { maxLength: 80 }), (r) => ({ from: "ann", text: "t".repeat(Math.floor(r() * 70)) })],
    ["json over varintDelimited", Codec.json(Chat, { framing: Codec.varintDelimited({ maxFrameLength: 80 }) }), (r) => ({ from: "bob", text: "u".repeat(Math.floor(r() * 70)) })]
  ]
  const r = prng(12_012)
  const out: Array<Case> = []
  for (const [name, codec, sample] of codecs) {
    let kept = 0
    for (let attempt = 0; attempt < 500 && kept < 5; attempt++) {
      const frames = Array.from({ length: 1 + Math.floor(r() * 4) }, () => Result.getOrElse(codec.encode(sample(r)), () => new Uint8Array(0)))
      const bytes = concat(frames)
      for (let flips = 1 + Math.floor(r() * 3); flips > 0 && bytes.length > 0; flips--) bytes[Math.floor(r() * bytes.length)] ^= 1 << Math.floor(r() * 8)
      const cuts = [0, ...Array.from({ length: Math.floor(r() * 4) }, () => Math.floor(r() * bytes.length)).sort((x, y) => x - y), bytes.length]
      const messages = cuts.slice(1).map((end, i) => bytes.subarray(cuts[i], end)).filter((m) => m.length > 0)
      const c = { name: `${name} #${kept + 1}`, codec, messages }
      if (expected(c).code !== undefined) {
        out.push(c)
        kept++
      }
    }
  }
  return out
})()

const cases = [...named, ...random]
const wellBehaved: Case = { name: "well-behaved", codec: Codec.lines(), messages: [b("still here\n")] }

/**
 * Connects, sends every message, and reads until the server closes: the acknowledgement bytes
 * (one per frame the server decoded), how the read ended, and the close code.
 */
const send = (url: string, c: Case) =>
  Effect.gen(function*() {
    const channel = yield* ByteChannel.connect(url)
    // The server may close before the last messages: those sends fail, which is expected.
    for (const message of c.messages) yield* Effect.ignore(channel.send(message))
    let acks = 0
    for (;;) {
      const next = yield* Effect.result(channel.readChunk())
      if (Result.isFailure(next)) {
        const info = yield* channel.closed
        return { acks, ended: next.failure, code: info.code }
      }
      if (Option.isNone(next.success)) return { acks, ended: "eof" as const, code: (yield* channel.closed).code }
      acks += next.success.value.length
    }
  }).pipe(Effect.scoped)

describe("Framed over a real server: hostile bytes close with 1009 / 1007, never 1011", () => {
  it.live(`${cases.length} codec cases (the issue's and seeded random ones), each on its own connection`, () =>
    Effect.gen(function*() {
      const all = [...cases, wellBehaved]
      const exits = yield* Effect.forEach(all, () => Deferred.make<Exit.Exit<void, unknown>>())
      const server = yield* NodeServer.serve({}, (channel, info) => {
        const id = Number(new URL(info.url, "http://127.0.0.1").searchParams.get("case"))
        const framed = ByteChannel.framed(channel, all[id]!.codec)
        return framed.messages.pipe(
          Stream.runForEach(() => channel.send(ACK)),
          Effect.exit,
          Effect.tap((exit) => Deferred.succeed(exits[id]!, exit)),
          Effect.flatten
        )
      })
      const url = (id: number) => `${server.url}?case=${id}`

      // A client that stays connected through all of it.
      const bystander = yield* ByteChannel.connect(url(all.length - 1))

      for (const [id, c] of cases.entries()) {
        const want = expected(c)
        expect(want.code, c.name).toBeDefined()
        const got = yield* send(url(id), c)
        // The frames before the bad one were delivered (one acknowledgement each), then the close.
        expect({ name: c.name, acks: got.acks, code: got.code }).toEqual({ name: c.name, acks: want.frames, code: want.code })
        expect(got.ended, c.name).toMatchObject({ _tag: "SocketError", code: want.code })
      }

      // Every handler failed with the typed codec error, never a defect.
      for (const [id, c] of cases.entries()) {
        const exit = yield* Deferred.await(exits[id]!)
        expect(Exit.isFailure(exit), c.name).toBe(true)
        if (Exit.isFailure(exit)) {
          expect(Cause.hasDies(exit.cause), c.name).toBe(false)
          const failure = Cause.findErrorOption(exit.cause)
          expect(Option.isSome(failure) && (failure.value instanceof CodecError.FrameTooLarge || failure.value instanceof CodecError.DecodeError), c.name)
            .toBe(true)
        }
      }

      // The bystander is still served.
      yield* bystander.send(b("still here\n"))
      const ack = yield* bystander.readChunk()
      expect(Option.isSome(ack) && [...ack.value]).toEqual([6])
    }).pipe(Effect.provide(NodeConnector.layer)), 60_000)
})

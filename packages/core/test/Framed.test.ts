import { describe, expect, it } from "@effect/vitest"
import * as ByteChannel from "@bytechannel/core/ByteChannel"
import * as Codec from "@bytechannel/core/Codec"
import * as MemorySocket from "@bytechannel/core/MemorySocket"
import type * as MessageSocket from "@bytechannel/core/MessageSocket"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"

const ChatMessage = Schema.Struct({ from: Schema.String, text: Schema.String })
type ChatMessage = typeof ChatMessage.Type
const utf8 = new TextEncoder()

const framedPair = <A>(codec: Codec.Codec<A>, pair?: MemorySocket.PairOptions) =>
  Effect.map(MemorySocket.pair(pair), ([a, b]) => ({
    a: ByteChannel.framed(ByteChannel.fromSocket(a), codec),
    b: ByteChannel.framed(ByteChannel.fromSocket(b), codec),
    rawA: a,
    rawB: b
  }))

describe("Framed", () => {
  it.effect("typed NDJSON chat messages round-trip, re-chunked into 1..7 byte messages in flight", () =>
    Effect.gen(function*() {
      const { a, b } = yield* framedPair(Codec.ndjson(ChatMessage), {
        rechunk: MemorySocket.randomRechunk({ maxChunkSize: 7, seed: 3 })
      })
      const sent: Array<ChatMessage> = Array.from({ length: 300 }, (_, i) => ({ from: i % 2 ? "ann" : "bob", text: `héllo ${i} €` }))
      const writer = yield* Effect.forkChild(Effect.andThen(Stream.run(Stream.fromIterable(sent), a.sink), a.close()))
      const received = yield* Stream.runCollect(b.messages)
      yield* Fiber.join(writer)
      expect(received).toEqual(sent)
    }))

  it.effect("a malformed message fails the stream with its line number, after the good ones", () =>
    Effect.gen(function*() {
      const [rawA, rawB] = yield* MemorySocket.pair()
      const b = ByteChannel.framed(ByteChannel.fromSocket(rawB), Codec.ndjson(ChatMessage))
      yield* rawA.send(utf8.encode(`{"from":"ann","text":"hi"}\n{"from":"bob",`))
      yield* rawA.send(utf8.encode(`"text":"yo"}\n{"from":"cy"}\n`))
      const seen: Array<ChatMessage> = []
      const error = yield* b.messages.pipe(Stream.runForEach((m) => Effect.sync(() => seen.push(m))), Effect.flip)
      expect(seen).toEqual([{ from: "ann", text: "hi" }, { from: "bob", text: "yo" }])
      expect(error).toMatchObject({ _tag: "DecodeError", reason: "Schema", frame: 3 })
      // The peer that sent it is disconnected with 1007 (invalid payload).
      expect(yield* rawA.closed).toMatchObject({ code: 1007, local: false })
    }))

  it.effect("a frame over the bound fails with FrameTooLarge and closes the connection with 1009", () =>
    Effect.gen(function*() {
      const [rawA, rawB] = yield* MemorySocket.pair()
      const b = ByteChannel.framed(ByteChannel.fromSocket(rawB), Codec.lines({ maxLength: 8 }))
      yield* rawA.send(utf8.encode("ok\nthis line is far too long\n"))
      expect(yield* b.next).toEqual(Option.some("ok"))
      expect(yield* Effect.flip(b.next)).toMatchObject({ _tag: "FrameTooLarge", limit: 8 })
      expect(yield* rawA.closed).toMatchObject({ code: 1009, local: false })
    }))

  it.effect("each frame is written as one message: prefix and payload together", () =>
    Effect.gen(function*() {
      const { a, rawB } = yield* framedPair(Codec.lengthDelimited())
      yield* a.send(new Uint8Array([1, 2, 3]))
      yield* a.send(new Uint8Array(0))
      expect(Option.getOrThrow(yield* rawB.receive)).toEqual(new Uint8Array([0, 0, 0, 3, 1, 2, 3]))
      expect(Option.getOrThrow(yield* rawB.receive)).toEqual(new Uint8Array([0, 0, 0, 0]))
    }))

  it.effect("coalesce packs the frames of one chunk into fewer messages, decoded the same", () =>
    Effect.gen(function*() {
      const [rawA, rawB] = yield* MemorySocket.pair({ capacity: 64 })
      const a = ByteChannel.framed(ByteChannel.fromSocket(rawA), Codec.lines(), { coalesce: 16 })
      const lines = Array.from({ length: 10 }, (_, i) => `line ${i}`) // 7 bytes each with "\n"
      yield* Stream.run(Stream.fromIterable(lines), a.sink)
      yield* a.close()
      const messages: Array<Uint8Array> = []
      for (;;) {
        const next = yield* rawB.receive
        if (Option.isNone(next)) break
        messages.push(next.value as Uint8Array)
      }
      expect(messages.length).toBe(5)
      for (const message of messages) expect(message.length).toBeLessThanOrEqual(16)
      const decoded = yield* Stream.fromIterable(messages).pipe(Codec.decode(Codec.lines()), Stream.runCollect)
      expect(decoded).toEqual(lines)
    }))

  it.effect("sink writes the frames of a chunk in one batched send (as ByteChannel.write does), never one send per value", () =>
    Effect.gen(function*() {
      const [rawA, rawB] = yield* MemorySocket.pair({ capacity: 256 })
      const calls = { send: 0, sendAll: 0, messages: 0 }
      const counted: MessageSocket.MessageSocket = {
        ...rawA,
        send: (message) => {
          calls.send++
          return rawA.send(message)
        },
        sendAll: (messages) => {
          calls.sendAll++
          calls.messages += messages.length
          return rawA.sendAll(messages)
        }
      }
      const a = ByteChannel.framed(ByteChannel.fromSocket(counted), Codec.lines())
      const lines = Array.from({ length: 100 }, (_, i) => `line ${i}`)
      yield* Stream.run(Stream.fromIterable(lines), a.sink) // one chunk of 100 values
      expect(calls).toEqual({ send: 0, sendAll: 1, messages: 100 })
      // Each frame is still one message, in order.
      const received: Array<string> = []
      for (let i = 0; i < 100; i++) received.push(new TextDecoder().decode(Option.getOrThrow(yield* rawB.receive) as Uint8Array))
      expect(received).toEqual(lines.map((line) => line + "\n"))
      // A value that does not encode: the frames before it are written (in one batch), then the sink fails.
      const error = yield* Effect.flip(Stream.run(Stream.make("x", "y\nz", "w"), a.sink))
      expect(error).toMatchObject({ _tag: "EncodeError", reason: "Delimiter" })
      expect(calls).toEqual({ send: 0, sendAll: 2, messages: 101 })
      expect(new TextDecoder().decode(Option.getOrThrow(yield* rawB.receive) as Uint8Array)).toBe("x\n")
    }))

  it.effect("next takes exactly one message: frames decoded together are kept for later reads", () =>
    Effect.gen(function*() {
      const { a, b } = yield* framedPair(Codec.lines())
      yield* a.channel.send(utf8.encode("one\ntwo\nthree\n"))
      expect(yield* b.next).toEqual(Option.some("one"))
      expect(yield* b.next).toEqual(Option.some("two"))
      const rest = yield* b.messages.pipe(Stream.take(1), Stream.runCollect)
      expect(rest).toEqual(["three"])
      yield* a.close()
      expect(yield* b.next).toEqual(Option.none())
    }))

  it.effect("messages emits the frames of one received message as one chunk", () =>
    Effect.gen(function*() {
      const { a, b } = yield* framedPair(Codec.lines())
      yield* a.channel.send(utf8.encode("one\ntwo\n"))
      yield* a.channel.send(utf8.encode("three\n"))
      const chunks = yield* b.messages.pipe(Stream.chunks, Stream.take(2), Stream.runCollect)
      expect(chunks).toEqual([["one", "two"], ["three"]])
    }))

  it.effect("an encode error fails send before anything is written", () =>
    Effect.gen(function*() {
      const { a, b } = yield* framedPair(Codec.lines({ maxLength: 3 }))
      expect(yield* Effect.flip(a.send("too long"))).toMatchObject({ _tag: "FrameTooLarge", reason: "Encode" })
      yield* a.send("ok")
      expect(yield* b.messages.pipe(Stream.take(1), Stream.runCollect)).toEqual(["ok"])
    }))

  it.effect("the unterminated tail at EOF is the last line; a truncated length-delimited frame is an error", () =>
    Effect.gen(function*() {
      const lines = yield* framedPair(Codec.lines())
      yield* lines.a.channel.send(utf8.encode("a\nb"))
      yield* lines.a.close()
      expect(yield* Stream.runCollect(lines.b.messages)).toEqual(["a", "b"])

      const frames = yield* framedPair(Codec.lengthDelimited())
      yield* frames.a.channel.send(new Uint8Array([0, 0, 0, 5, 1]))
      yield* frames.a.close()
      expect(yield* Effect.flip(Stream.runDrain(frames.b.messages))).toMatchObject({ _tag: "DecodeError", reason: "Truncated" })
    }))

  it.effect("a lost connection fails messages with the SocketError", () =>
    Effect.gen(function*() {
      const { b, rawA } = yield* framedPair(Codec.lines())
      yield* rawA.drop
      expect(yield* Effect.flip(Stream.runDrain(b.messages))).toMatchObject({ _tag: "SocketError", code: 1006 })
    }))
})

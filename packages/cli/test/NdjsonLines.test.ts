/**
 * CLI --codec ndjson checks each line and passes it on as it came: what its own encoder must
 * accept, the decoder's contract, and the connect/echo paths with a line that ends in \r\r\n.
 */
import { describe, expect, it } from "@effect/vitest"
import { ByteChannel, Codec, type MessageSocket } from "@bytechannel/core"
import { NodeConnector } from "@bytechannel/node"
import { NodeServer } from "@bytechannel/node"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as framing from "../src/internal/framing.js"
import { bin, listening, receiveAll } from "./fixtures.js"

const bytes = (s: string) => new TextEncoder().encode(s)
const text = new TextDecoder()

const ndjsonCodec = () => {
  const mode = framing.make({ codec: "ndjson", text: false, maxFrame: undefined })
  return mode.withCodec!((codec) => codec as any)
}

describe("CLI --codec ndjson, line by line", () => {
  it("a JSON line ending in \\r\\r\\n (JSON white space before the CRLF) decodes to a line its own encoder refuses", () => {
    const codec = ndjsonCodec()
    const decoder = codec.decoder()
    const out: Array<string> = []
    expect(decoder.decode(bytes(`{"a":1}\r\r\n`), out)).toBeUndefined()
    expect(out.length).toBe(1)
    // Every line the decoder passes must be one the encoder writes (the CLI encodes each decoded line).
    const encoded = codec.encode(out[0])
    expect(encoded._tag).toBe("Success")
  })

  it("after an error the decoder stays failed (Codec.Decoder's contract)", () => {
    const codec = ndjsonCodec()
    const decoder = codec.decoder()
    const out: Array<string> = []
    const first = decoder.decode(bytes(`{"a":1}\nnot json\n`), out)
    expect(first?._tag).toBe("DecodeError")
    const again = decoder.decode(bytes(`{"b":2}\n`), out)
    expect(again).toBe(first)
    expect(out).toEqual([`{"a":1}`])
  })

  it.live("connect --codec ndjson: a peer's line {..}\\r\\r\\n comes out as a line (old codec: {\"a\":1}\\n)", () =>
    Effect.gen(function*() {
      const { url } = yield* NodeServer.serve({ host: "127.0.0.1", port: 0 }, (channel: ByteChannel.ByteChannel) =>
        Effect.gen(function*() {
          yield* channel.send(bytes(`{"a":1}\r\r\n{"b":2}\n`))
          yield* receiveAll(channel.socket)
        }))
      const client = yield* bin(["connect", "--codec", "ndjson", url])
      client.process.stdin.end()
      // Bounded: the CLI must exit (it hung here, see the report).
      const exit = yield* client.exited.pipe(Effect.timeoutOption("10 seconds"))
      expect({ exited: Option.isSome(exit), stderr: client.stderr(), stdout: client.stdout().toString() }).toMatchObject({ exited: true })
      expect(Option.getOrThrow(exit).code).toBe(0)
      expect(client.stdout().toString()).toMatch(/^\{"a":1\}\r?\n\{"b":2\}\n$/)
    }).pipe(Effect.scoped))

  it.live("connect --codec lines: a peer's line ending \\r\\r\\n, which the lines encoder refuses: said, closed with 1011 by us, and the CLI exits (it waited for a close nobody started)", () =>
    Effect.gen(function*() {
      const { url } = yield* NodeServer.serve({ host: "127.0.0.1", port: 0 }, (channel: ByteChannel.ByteChannel) =>
        Effect.gen(function*() {
          yield* channel.send(bytes(`{"a":1}\r\r\n{"b":2}\n`))
          yield* receiveAll(channel.socket)
        }))
      const client = yield* bin(["connect", "--codec", "lines", url])
      client.process.stdin.end()
      // Bounded: the CLI must exit (it hung here, see the report).
      const exit = yield* client.exited.pipe(Effect.timeoutOption("10 seconds"))
      expect({ exited: Option.isSome(exit), stderr: client.stderr(), stdout: client.stdout().toString() }).toMatchObject({ exited: true })
      // The line cannot be written out as a line: said, and the connection closed with 1011 by us.
      expect(Option.getOrThrow(exit).code).toBe(3)
      expect(client.stderr()).toMatch(/error: Delimiter: .*\n.*closed 1011 .* by us\n$/)
    }).pipe(Effect.scoped))

  it.live("connect --codec ndjson: a local line {..}\\r\\r\\n is sent (old codec sent {\"a\":1})", () =>
    Effect.gen(function*() {
      const received = yield* Deferred.make<ReadonlyArray<MessageSocket.Message>>()
      const { url } = yield* NodeServer.serve({ host: "127.0.0.1", port: 0 }, (channel: ByteChannel.ByteChannel) =>
        Effect.gen(function*() {
          yield* Deferred.succeed(received, yield* receiveAll(channel.socket))
        }))
      const client = yield* bin(["connect", "--codec", "ndjson", url])
      yield* client.write(`{"a":1}\r\r\n{"b":2}\n`)
      client.process.stdin.end()
      const exit = yield* client.exited
      const sent = (yield* Deferred.await(received)).map((m) => (typeof m === "string" ? m : text.decode(m))).join("")
      expect({ code: exit.code, stderr: client.stderr() }).toMatchObject({ code: 0 })
      expect(sent).toMatch(/^\{"a":1\}\r?\n\{"b":2\}\n$/)
    }).pipe(Effect.scoped))

  it.live("serve --echo --codec ndjson: a client's line {..}\\r\\r\\n is echoed, and the next line too (old codec echoed {\"a\":1})", () =>
    Effect.gen(function*() {
      const echo = yield* bin(["serve", "--echo", "--codec", "ndjson"])
      const url = yield* listening(echo)
      const client = ByteChannel.framed(yield* ByteChannel.connect(url), Codec.lines())
      yield* client.channel.send(bytes(`{"a":1}\r\r\n{"b":2}\n`))
      const first = yield* client.next.pipe(Effect.timeoutOption("10 seconds"), Effect.result)
      const second = yield* client.next.pipe(Effect.timeoutOption("10 seconds"), Effect.result)
      expect({ first, second }).toMatchObject({
        first: { _tag: "Success", success: { _tag: "Some", value: { _tag: "Some" } } },
        second: { _tag: "Success", success: { _tag: "Some", value: { _tag: "Some", value: `{"b":2}` } } }
      })
    }).pipe(Effect.scoped, Effect.provide(NodeConnector.layer)))
})

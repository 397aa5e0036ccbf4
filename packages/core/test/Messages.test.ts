import { describe, expect, it } from "@effect/vitest"
import * as ByteChannel from "@bytechannel/core/ByteChannel"
import * as Codec from "@bytechannel/core/Codec"
import * as CodecError from "@bytechannel/core/CodecError"
import * as MemorySocket from "@bytechannel/core/MemorySocket"
import * as SocketError from "@bytechannel/core/SocketError"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import * as Stream from "effect/Stream"

// What a user reads: `String(error)` and `Cause.pretty` show `name: message`, so the message
// must not repeat the tag (the anchor: @effect/platform's `${reason}: ...` messages).
const rendered = (error: Error) => String(error)

describe("error messages", () => {
  it("never repeat the tag: the name shows it once", () => {
    const errors: ReadonlyArray<Error> = [
      new SocketError.SocketError({ reason: "Read", detail: "socket hang up" }),
      new SocketError.ProtocolError({ reason: "UnexpectedText", detail: "a text message arrived" }),
      new SocketError.CloseArgumentError({ reason: "InvalidCode", code: 1001, closeReason: "" }),
      new CodecError.FrameTooLarge({ reason: "Decode", limit: 4, size: 9, frame: 2 }),
      new CodecError.DecodeError({ reason: "Truncated", frame: 3, detail: "bytes remaining on stream" }),
      new CodecError.EncodeError({ reason: "Delimiter", detail: "the line contains the delimiter" })
    ]
    for (const error of errors) {
      const tag = (error as unknown as { readonly _tag: string })._tag
      expect(rendered(error)).toBe(`${tag}: ${error.message}`)
      expect(error.message).not.toContain(tag)
      expect(Cause.pretty(Cause.fail(error)).split("\n")[0]).toBe(`${tag}: ${error.message}`)
    }
  })

  it("say the reason, what happened and how the connection closed", () => {
    expect(new SocketError.SocketError({ reason: "Open", url: "ws://127.0.0.1:9/", cause: new Error("connect ECONNREFUSED 127.0.0.1:9") }).message)
      .toBe("Open: cannot connect to ws://127.0.0.1:9/: connect ECONNREFUSED 127.0.0.1:9")
    expect(
      new SocketError.SocketError({ reason: "Open", url: "ws://h/", status: 401, detail: "the server answered the handshake with HTTP 401" })
        .message
    ).toBe("Open: cannot connect to ws://h/: the server answered the handshake with HTTP 401")
    expect(new SocketError.SocketError({ reason: "Open", url: "ws://h/", status: 403 }).message).toBe("Open: cannot connect to ws://h/ (HTTP 403)")
    expect(new SocketError.SocketError({ reason: "Closed", code: 1011, closeReason: "boom" }).message)
      .toBe("Closed: the connection closed (code 1011 \"boom\")")
    expect(new SocketError.SocketError({ reason: "OpenTimeout" }).message).toBe("OpenTimeout: the opening handshake did not finish in time")
    expect(new SocketError.CloseArgumentError({ reason: "InvalidCode", code: 1001, closeReason: "" }).message)
      .toBe("InvalidCode: code 1001 may not be sent (use 1000 or 3000-4999)")
    expect(new CodecError.FrameTooLarge({ reason: "Decode", limit: 4, size: 9, frame: 2 }).message)
      .toBe("received 9 bytes, more than the 4-byte limit (frame 2)")
    expect(Result.flip(Codec.decodeAll(Codec.lengthDelimited(), [new Uint8Array([0, 0, 0, 5, 1])])).pipe(Result.getOrThrow).message)
      .toBe("Truncated in frame 1: bytes remaining on stream")
  })

  describe("send after close says who closed and that sending is over", () => {
    it.effect("this side closed", () =>
      Effect.gen(function*() {
        const [a] = yield* MemorySocket.pair()
        const channel = ByteChannel.fromSocket(a)
        yield* channel.close({ code: 1000, reason: "done" })
        const error = yield* Effect.flip(channel.send(new Uint8Array([1])))
        expect(error.message).toBe("Closed: cannot send after this side closed the connection (code 1000 \"done\")")
      }))

    it.effect("the peer closed", () =>
      Effect.gen(function*() {
        const [a, b] = yield* MemorySocket.pair()
        const channel = ByteChannel.fromSocket(a)
        yield* b.close({ code: 4000, reason: "bye" })
        yield* channel.closed
        const error = yield* Effect.flip(channel.send(new Uint8Array([1])))
        expect(error.message).toBe("Closed: cannot send after the peer closed the connection (code 4000 \"bye\")")
      }))

    it.effect("the connection was lost", () =>
      Effect.gen(function*() {
        const [a] = yield* MemorySocket.pair()
        const channel = ByteChannel.fromSocket(a)
        yield* a.drop
        yield* channel.closed
        const error = yield* Effect.flip(channel.write.pipe((sink) => Stream.run(Stream.make(new Uint8Array([1])), sink)))
        expect(error.message).toBe("Closed: cannot send after the connection was lost (code 1006)")
      }))
  })
})

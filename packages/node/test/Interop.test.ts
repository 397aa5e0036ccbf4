import { describe, expect, it } from "@effect/vitest"
import { ByteChannel, Codec } from "@bytechannel/core"
import { NodeConnector, NodeServer } from "@bytechannel/node"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { fileURLToPath } from "node:url"
import { spawnWithLines } from "./fixtures.js"

// Debian's python3 with python3-websockets, as .ci/run installs it (not a pyenv shim).
const PYTHON = "/usr/bin/python3"
const PEER = fileURLToPath(new URL("./peers/python_peer.py", import.meta.url))
const COUNT = 300
const framePayload = (i: number) => Uint8Array.from({ length: (i * 7919) % 3000 }, (_, j) => (i * 7 + j) & 0xff)

/** Runs the Python peer; killed when the scope closes. */
const python = (args: ReadonlyArray<string>) => spawnWithLines(PYTHON, [PEER, ...args])

describe("interop with Python websockets", () => {
  it.live("as client: length-delimited frames come back split at random, text mixed in; their close 4000 \"bye\" is seen here", () =>
    Effect.gen(function*() {
      const peer = yield* python(["server"])
      const port = yield* peer.line(0)
      const result = yield* Effect.gen(function*() {
        const channel = yield* ByteChannel.connect(`ws://127.0.0.1:${port}/`, { text: "ignore" })
        const framed = ByteChannel.framed(channel, Codec.lengthDelimited())
        for (let i = 0; i < COUNT; i++) yield* framed.send(framePayload(i))
        yield* framed.send(new Uint8Array([0xff, 0x45, 0x4e, 0x44])) // "\xffEND": the end marker
        const frames = yield* framed.messages.pipe(Stream.take(COUNT), Stream.runCollect)
        const error = yield* Effect.flip(Stream.runDrain(framed.messages))
        return { frames, error, info: yield* channel.closed }
      }).pipe(Effect.scoped, Effect.provide(NodeConnector.layer))
      expect(result.frames.length).toBe(COUNT)
      result.frames.forEach((frame, i) => expect(Buffer.from(frame).equals(Buffer.from(framePayload(i)))).toBe(true))
      expect(result.error).toMatchObject({ _tag: "SocketError", reason: "Closed", code: 4000, closeReason: "bye" })
      expect(result.info).toEqual({ code: 4000, reason: "bye", wasClean: true, local: false })
    }))

  it.live("as server: their frames arrive split at random with text mixed in; our close 4001 \"done\" is seen there", () =>
    Effect.gen(function*() {
      const received = yield* Deferred.make<ReadonlyArray<Uint8Array>>()
      const server = yield* NodeServer.serve({ channel: { text: "ignore" } }, (channel) =>
        Effect.gen(function*() {
          const framed = ByteChannel.framed(channel, Codec.lengthDelimited())
          const frames = yield* framed.messages.pipe(Stream.take(COUNT), Stream.runCollect)
          yield* Deferred.succeed(received, frames)
          yield* channel.close({ code: 4001, reason: "done" })
        }))
      const peer = yield* python(["client", server.url])
      const frames = yield* Deferred.await(received)
      expect(frames.length).toBe(COUNT)
      frames.forEach((frame, i) => expect(Buffer.from(frame).equals(Buffer.from(framePayload(i)))).toBe(true))
      const seen = JSON.parse(yield* peer.line(0))
      expect(seen).toEqual({ code: 4001, reason: "done" })
      expect(yield* Effect.promise(() => peer.exited)).toBe(0)
    }))
})

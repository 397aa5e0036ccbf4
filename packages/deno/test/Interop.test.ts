/**
 * DenoServer and an independent implementation in another runtime: Python's `websockets`
 * (Debian's python3-websockets) as the client, run by node/test/peers/python_peer.py.
 */
import { ByteChannel, Codec } from "@bytechannel/core"
import { DenoServer } from "@bytechannel/deno"
import { describe, expect, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { fileURLToPath } from "node:url"
import { spawnWithLines } from "../../node/test/fixtures.js"

// Debian's python3 with python3-websockets, as .ci/run installs it (not a pyenv shim).
const PYTHON = "/usr/bin/python3"
const PEER = fileURLToPath(new URL("../../node/test/peers/python_peer.py", import.meta.url))
const COUNT = 300
const framePayload = (i: number) => Uint8Array.from({ length: (i * 7919) % 3000 }, (_, j) => (i * 7 + j) & 0xff)

/** An echo client in Python: sends binary and text messages, checks each one comes back, closes 1000. */
const ECHO_CLIENT = `
import asyncio, json, random, sys, websockets
async def main(url):
    rng = random.Random(3)
    async with websockets.connect(url, max_size=16 * 1024 * 1024) as ws:
        for i in range(200):
            message = "text ü " + str(i) if i % 7 == 0 else bytes(rng.randrange(256) for _ in range(rng.randrange(0, 5000)))
            await ws.send(message)
            back = await ws.recv()
            if back != (message.encode() if isinstance(message, str) else message):
                print(json.dumps({"mismatch": i}), flush=True)
                return
        await ws.close(1000, "bye")
        print(json.dumps({"echoed": 200, "code": ws.close_code}), flush=True)
asyncio.run(main(sys.argv[1]))
`

const sameBytes = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((byte, i) => byte === b[i])

describe("DenoServer with Python websockets as the client", () => {
  it.live("echo: 200 binary and text messages come back byte for byte (text as its UTF-8 bytes); their close 1000 is answered", () =>
    Effect.gen(function*() {
      const server = yield* DenoServer.serve({}, (channel) => Stream.run(channel.read, channel.write))
      const peer = yield* spawnWithLines(PYTHON, ["-c", ECHO_CLIENT, server.url])
      const line = yield* peer.line(0).pipe(
        Effect.timeoutOrElse({ duration: "10 seconds", orElse: () => Effect.fail(new Error("no answer from the Python client within 10 seconds")) })
      )
      expect(JSON.parse(line)).toEqual({ echoed: 200, code: 1000 })
      expect(yield* Effect.promise(() => peer.exited)).toBe(0)
    }))

  it.live("their frames arrive split at random with text mixed in; our close 4001 \"done\" is seen there", () =>
    Effect.gen(function*() {
      const received = yield* Deferred.make<ReadonlyArray<Uint8Array>>()
      const server = yield* DenoServer.serve({ channel: { text: "ignore" } }, (channel) =>
        Effect.gen(function*() {
          const framed = ByteChannel.framed(channel, Codec.lengthDelimited())
          const frames = yield* framed.messages.pipe(Stream.take(COUNT), Stream.runCollect)
          yield* Deferred.succeed(received, frames)
          yield* channel.close({ code: 4001, reason: "done" })
        }))
      const peer = yield* spawnWithLines(PYTHON, [PEER, "client", server.url])
      const frames = yield* Deferred.await(received)
      expect(frames.length).toBe(COUNT)
      frames.forEach((frame, i) => expect(sameBytes(frame, framePayload(i)), `frame ${i}`).toBe(true))
      expect(JSON.parse(yield* peer.line(0))).toEqual({ code: 4001, reason: "done" })
      expect(yield* Effect.promise(() => peer.exited)).toBe(0)
    }))
})

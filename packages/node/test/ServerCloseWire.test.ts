// NodeServer.serve (both paths): a handler that returns with data still unsent to a paused client:
// the client gets every byte, then 1000 (not a drop of a connection left open at the fiber's end);
// the connection is released.
import { NodeServer } from "@bytechannel/node"
import { describe, expect, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import { WebSocket } from "ws"
import { eventually } from "./fixtures.js"

const SIZE = 512 * 1024 // under the send high-water mark: send does not wait for the paused client

for (const keepalive of [false, true]) {
  describe(`ws wire at the end of a connection's fiber (${keepalive ? "keepalive" : "owned"})`, () => {
    it.live("handler sends 512 KiB to a paused client, then returns (and once more closing itself): all bytes, then 1000", () =>
      Effect.gen(function*() {
        for (const closesItself of [false, true]) {
          const returned = yield* Deferred.make<void>()
          const server = yield* NodeServer.serve(
            { host: "127.0.0.1", port: 0, ...(keepalive ? { pingInterval: "10 seconds" } : {}) },
            (channel) =>
              Effect.gen(function*() {
                yield* channel.send(new Uint8Array(SIZE))
                if (closesItself) yield* Effect.forkDetach(Effect.andThen(Effect.yieldNow, Deferred.succeed(returned, undefined)))
                else yield* Deferred.succeed(returned, undefined)
                if (closesItself) yield* channel.close()
              })
          )
          const seen = { bytes: 0, code: -1, clean: false }
          const ws = yield* Effect.acquireRelease(
            Effect.callback<WebSocket>((resume) => {
              const ws = new WebSocket(server.url)
              ws.on("error", () => {})
              ws.on("message", (data: Buffer) => (seen.bytes += data.length))
              ws.on("close", (code) => (seen.code = code))
              ws.once("open", () => {
                ws.pause()
                resume(Effect.succeed(ws))
              })
            }),
            (ws) => Effect.sync(() => ws.terminate())
          )
          yield* Deferred.await(returned)
          ws.resume()
          yield* eventually(() => seen.code !== -1, () => JSON.stringify(seen))
          expect({ closesItself, bytes: seen.bytes, code: seen.code }).toEqual({ closesItself, bytes: SIZE, code: 1000 })
          yield* eventually(() => server.connections() === 0, "released")
        }
      }).pipe(Effect.scoped))
  })
}

// Connections arriving while a NodeServer's scope closes (both paths): every client ends (a close
// frame, a refusal or a dropped handshake), the scope's close completes, none is left open.
import { NodeServer } from "@bytechannel/node"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Scope from "effect/Scope"
import { WebSocket } from "ws"

for (const keepalive of [false, true]) {
  describe(`connections racing the server's close (${keepalive ? "keepalive" : "owned"})`, () => {
    it.live("50 clients, the scope closes after the 10th is open: every client ends, the close completes", () =>
      Effect.gen(function*() {
        const scope = yield* Scope.make()
        const server = yield* NodeServer.serve(keepalive ? { pingInterval: "10 seconds" } : {}, (channel) => channel.closed).pipe(
          Scope.provide(scope)
        )
        const clients: Array<WebSocket> = []
        let opened = 0
        let closing: Fiber.Fiber<void> | undefined
        const outcomes = yield* Effect.promise(() =>
          Promise.all(Array.from({ length: 50 }, () =>
            new Promise<string>((resolve) => {
              const ws = new WebSocket(server.url)
              clients.push(ws)
              const timer = setTimeout(() => resolve("left open"), 8000)
              ws.on("error", () => {})
              ws.on("open", () => {
                if (++opened === 10) closing = Effect.runFork(Scope.close(scope, Exit.void))
              })
              ws.on("close", (code) => {
                clearTimeout(timer)
                resolve(String(code))
              })
            })))
        )
        for (const ws of clients) ws.terminate()
        if (closing !== undefined) yield* Fiber.await(closing)
        expect(outcomes.filter((o) => o === "left open")).toEqual([])
        expect(server.connections()).toBe(0)
      }))
  })
}

// A NodeServer connection whose channel cannot be made (bad channel options): closed with 1011 on
// both paths, and the server's scope still closes.
import { NodeServer } from "@bytechannel/node"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Scope from "effect/Scope"
import { WebSocket } from "ws"

/** A raw ws client: resolves with the close code the server sent, or "timeout" after `millis`. */
const closeCodeOf = (url: string, millis = 3000) =>
  Effect.callback<number | "timeout">((resume) => {
    const ws = new WebSocket(url)
    ws.on("error", () => {})
    const timer = setTimeout(() => {
      ws.terminate()
      resume(Effect.succeed("timeout"))
    }, millis)
    ws.on("close", (code) => {
      clearTimeout(timer)
      resume(Effect.succeed(code))
    })
    return Effect.sync(() => {
      clearTimeout(timer)
      ws.terminate()
    })
  })

describe("owned server socket", () => {
  it.live("a connection whose channel cannot be made (bad channel options) is closed with 1011 (no keepalive)", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const server = yield* NodeServer.serve({ channel: { maxMessageSize: 0 } }, (channel) => channel.closed).pipe(
        Scope.provide(scope)
      )
      const code = yield* closeCodeOf(server.url)
      // Closed as a failed handler's connection is (the defect is logged), never left open.
      expect(code).toBe(1011)
      yield* Scope.close(scope, Exit.void).pipe(Effect.timeout("5 seconds"))
    }))

  it.live("bad channel options (no keepalive): the server's scope still closes while such a client stays connected", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const server = yield* NodeServer.serve({ channel: { maxMessageSize: 0 } }, (channel) => channel.closed).pipe(
        Scope.provide(scope)
      )
      const ws = yield* Effect.acquireRelease(
        Effect.callback<WebSocket>((resume) => {
          const ws = new WebSocket(server.url)
          ws.on("error", () => {})
          ws.once("open", () => resume(Effect.succeed(ws)))
        }),
        (ws) => Effect.sync(() => ws.terminate())
      )
      expect(ws.readyState).toBe(WebSocket.OPEN)
      // Forked: the close is uninterruptible; the client's release below lets a stuck one end.
      const closing = Effect.runFork(Scope.close(scope, Exit.void))
      const closed = yield* Fiber.await(closing).pipe(Effect.timeout("3 seconds"), Effect.exit)
      ws.terminate()
      yield* Fiber.await(closing)
      expect(closed._tag).toBe("Success")
    }).pipe(Effect.scoped))

  it.live("bad channel options with keepalive (the scoped path): closed with 1011 too", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const server = yield* NodeServer.serve({ channel: { maxMessageSize: 0 }, pingInterval: "10 seconds" }, (channel) => channel.closed).pipe(
        Scope.provide(scope)
      )
      const code = yield* closeCodeOf(server.url)
      expect(code).toBe(1011)
      yield* Scope.close(scope, Exit.void).pipe(Effect.timeout("5 seconds"))
    }))
})

// A connection fiber interrupted (server shutdown) before it reaches ByteChannel.handle's exit
// handler: with the default scheduler the fiber runs that far in one go; with a small
// Scheduler.MaxOpsBeforeYield it yields on the way, and the server's scope may close meanwhile.
// The connection must still be closed.
import { NodeServer } from "@bytechannel/node"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Scheduler from "effect/Scheduler"
import * as Scope from "effect/Scope"
import { WebSocket } from "ws"

/** Runs `f` after `k` + 1 turns of the event loop's check phase (where a yielded fiber resumes). */
const afterTurns = (k: number, f: () => void): void => {
  setImmediate(() => (k === 0 ? f() : afterTurns(k - 1, f)))
}

describe("a connection interrupted before handle runs", () => {
  it.live("(MaxOpsBeforeYield 1) every accepted connection is closed however early the server's scope closes", () =>
    Effect.gen(function*() {
      const leaked: Array<number> = []
      for (let k = 0; k < 6; k++) {
        const scope = yield* Scope.make()
        let closing: Fiber.Fiber<void> | undefined
        const server = yield* NodeServer.serve({
          // Accepted right after this returns: the scope closes k turns into the connection's fiber.
          verifyClient: () => {
            afterTurns(k, () => (closing = Effect.runFork(Scope.close(scope, Exit.void))))
            return true
          }
        }, (channel) => channel.closed).pipe(Effect.provideService(Scheduler.MaxOpsBeforeYield, 1), Scope.provide(scope))
        const outcome = yield* Effect.callback<string>((resume) => {
          const ws = new WebSocket(server.url)
          ws.on("error", () => {})
          const timer = setTimeout(() => {
            ws.terminate()
            resume(Effect.succeed("left open"))
          }, 1500)
          ws.on("close", (code) => {
            clearTimeout(timer)
            resume(Effect.succeed(String(code)))
          })
        })
        if (outcome === "left open") leaked.push(k)
        // The client is gone either way: the server's close can end.
        if (closing !== undefined) yield* Fiber.await(closing)
      }
      expect(leaked).toEqual([])
    }), 60_000)
})

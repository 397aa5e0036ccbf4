// A Bun child process with a BunServer (keepalive on, long close and stall timeouts) whose handler
// sends forever: prints its port, closes the server's scope at the first line on stdin, prints
// "closed", and must then exit by itself (nothing of the server may keep the process alive).
// Run with `bun --tsconfig-override tsconfig.bun.json`: @bytechannel/* are the sources.
import { BunServer } from "@bytechannel/bun"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"

const program = Effect.gen(function*() {
  const stop = yield* Deferred.make<void>()
  process.stdin.once("data", () => Deferred.doneUnsafe(stop, Effect.void))
  const server = yield* BunServer.serve(
    { pingInterval: "1 second", closeTimeout: "60 seconds", sendStallTimeout: "60 seconds", sendHighWaterMark: 64 * 1024 },
    (channel) => Effect.forever(channel.send(new Uint8Array(16 * 1024)))
  )
  console.log(server.port)
  yield* Deferred.await(stop)
}).pipe(Effect.scoped)

await Effect.runPromise(program)
process.stdin.pause()
console.log("closed")

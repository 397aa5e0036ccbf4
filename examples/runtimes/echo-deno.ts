/**
 * The echo example on Deno: the same `program` as `examples/echo.ts`, with Deno's layers.
 *
 * Run (after `pnpm build`): `deno run -A examples/dist/runtimes/echo-deno.js` (`--serve` keeps serving on
 * `--port`, default an OS-chosen one, until Ctrl-C).
 */
import { WebSocketConnector } from "@bytechannel/core"
import { DenoServer } from "@bytechannel/deno"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { parseArgs } from "node:util"
import { program } from "../echo.js"

const { values } = parseArgs({ options: { serve: { type: "boolean" }, port: { type: "string" } } })

// The edge: Deno's server, and the WHATWG WebSocket client Deno has.
const DenoRuntime = Layer.mergeAll(DenoServer.layerServer, WebSocketConnector.layer)

Effect.runPromise(
  program(Number(values.port ?? 0)).pipe(
    Effect.tap((server) => values.serve ? Effect.log(`serving ${server.url}`).pipe(Effect.andThen(Effect.never)) : Effect.void),
    Effect.scoped,
    Effect.provide(DenoRuntime)
  )
).catch((error) => {
  console.error(error)
  process.exitCode = 1
})

/**
 * The echo example on Bun: the same `program` as `examples/echo.ts`, with Bun's layers.
 *
 * Run (after `pnpm build`): `bun examples/runtimes/echo-bun.ts` (`--serve` keeps serving on
 * `--port`, default an OS-chosen one, until Ctrl-C).
 */
import { WebSocketConnector } from "@bytechannel/core"
import { BunServer } from "@bytechannel/bun"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import { parseArgs } from "node:util"
import { program } from "../echo.js"

const { values } = parseArgs({ options: { serve: { type: "boolean" }, port: { type: "string" } } })

// The edge: Bun's server, and the WHATWG WebSocket client Bun has.
const BunRuntime = Layer.mergeAll(BunServer.layerServer, WebSocketConnector.layer)

Effect.runPromise(
  program(Number(values.port ?? 0)).pipe(
    Effect.tap((server) => values.serve ? Effect.log(`serving ${server.url}`).pipe(Effect.andThen(Effect.never)) : Effect.void),
    Effect.scoped,
    Effect.provide(BunRuntime)
  )
).catch((error) => {
  console.error(error)
  process.exitCode = 1
})

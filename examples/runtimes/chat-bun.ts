/**
 * The chat server on Bun: the same `serveChat` as `examples/chat`, with Bun's server layer and
 * the in-process hub. WebSockets only (the page is served by the Node entry, `pnpm demo`); talk
 * to it with the terminal client: `pnpm chat --port PORT`.
 *
 * Run (after `pnpm build`): `bun examples/runtimes/chat-bun.ts [--host H] [--port P]` (default
 * 127.0.0.1:8080; `--port 0` lets the system choose).
 */
import { Hub } from "@bytechannel/core"
import { BunServer } from "@bytechannel/bun"
import * as Effect from "effect/Effect"
import { parseArgs } from "node:util"
import { serveChat } from "../chat/server.js"

const { values } = parseArgs({ options: { host: { type: "string" }, port: { type: "string" }, "presence-ms": { type: "string" } } })
const presence = values["presence-ms"]

Effect.runPromise(
  Effect.gen(function*() {
    const server = yield* serveChat({
      host: values.host ?? "127.0.0.1",
      port: Number(values.port ?? 8080),
      presenceInterval: presence === undefined ? undefined : Number(presence)
    })
    console.log(`chat: serving ws://${server.host}:${server.port}/chat on Bun (server ${server.name})`)
    return yield* Effect.never
  }).pipe(Effect.scoped, Effect.provide([Hub.layer, BunServer.layerServer]))
).catch((error) => {
  console.error(`chat: ${String(error)}`)
  process.exitCode = 1
})

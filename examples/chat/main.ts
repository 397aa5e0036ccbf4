/**
 * `pnpm demo`: the chat server with its page. `pnpm chat`: the terminal client.
 * Host and port: --host/--port or HOST/PORT (default 127.0.0.1:8080).
 */
import { NodeConnector } from "@bytechannel/node"
import * as Effect from "effect/Effect"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { runClient } from "./client.js"
import { serveChat } from "./server.js"

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { host: { type: "string" }, port: { type: "string" }, name: { type: "string" } }
})
const host = values.host ?? process.env.HOST ?? "127.0.0.1"
const port = Number(values.port ?? process.env.PORT ?? 8080)
const pageDir = fileURLToPath(new URL("../../chat-page", import.meta.url))

const fail = (message: string) => {
  console.error(message)
  process.exit(1)
}

if (positionals[0] === "client") {
  const name = values.name ?? process.env.USER ?? "terminal"
  const input = createInterface({ input: process.stdin })
  Effect.runPromise(
    runClient(`ws://${host}:${port}/chat`, name, input, (line) => console.log(line)).pipe(Effect.provide(NodeConnector.layer))
  ).then(() => process.exit(0), (error) => fail(String(error)))
} else {
  Effect.runPromise(Effect.gen(function*() {
    const server = yield* serveChat({ host, port, pageDir })
    console.log(`chat: open ${server.url} in a browser (add ?name=you)`)
    console.log(`chat: from a terminal: npx -y pnpm@10.34.9 chat --name you${port === 8080 ? "" : ` --port ${port}`}`)
    return yield* Effect.never
  }).pipe(Effect.scoped)).catch((error) =>
    fail(String(error).includes("already in use")
      ? `chat: ${host}:${port} is already in use (is the demo already running?). Use --port to pick another.`
      : `chat: ${String(error)}`)
  )
}

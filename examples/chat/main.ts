/**
 * `pnpm demo`: the chat server with its page, on the in-process hub.
 * `pnpm demo --redis redis://127.0.0.1:6379 --port 8081`: one of several server processes
 * sharing a Redis (start more with other ports; every page sees every message).
 * `pnpm chat`: the terminal client (`--port 8081,8082,8083` to fail over between servers).
 * Host and port: --host/--port or HOST/PORT (default 127.0.0.1:8080); Redis: --redis or REDIS_URL.
 */
import { Hub } from "@bytechannel/core"
import { NodeConnector } from "@bytechannel/node"
import { RedisHub } from "@bytechannel/redis"
import * as Effect from "effect/Effect"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { parseArgs } from "node:util"
import { runClient } from "./client.js"
import { layerWithPage } from "./page.js"
import { serveChat } from "./server.js"

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    host: { type: "string" },
    port: { type: "string" },
    name: { type: "string" },
    redis: { type: "string" },
    "presence-ms": { type: "string" }
  }
})
const host = values.host ?? process.env.HOST ?? "127.0.0.1"
const ports = (values.port ?? process.env.PORT ?? "8080").split(",").map(Number)
const port = ports[0]!
const redis = values.redis ?? process.env.REDIS_URL
// The page is built next to the compiled program (examples/chat-page); from the sources too.
const pageDir = fileURLToPath(new URL(import.meta.url.includes("/dist/") ? "../../chat-page" : "../chat-page", import.meta.url))

const fail = (message: string) => {
  console.error(message)
  process.exit(1)
}

/** What this process says about Redis, one line each (tests wait on them). */
const logHub = (event: RedisHub.RedisHubEvent) =>
  Effect.sync(() => {
    switch (event._tag) {
      case "Connected":
        return console.log(`hub: redis connected${event.restarted ? ` (a new instance: ${event.replayed} messages added again)` : ""}`)
      case "Disconnected":
        return console.log(`hub: redis disconnected (${event.error.message}); serving this process's clients, reconnecting`)
      case "GaveUp":
        return console.log(`hub: redis given up (${event.error.message})`)
      case "Dropped":
        return console.log(`hub: ${event.count} messages dropped while redis was away`)
      case "Lost":
        return console.log(`hub: ${event.count} messages lost on ${event.topic}`)
    }
  })

if (positionals[0] === "client") {
  const name = values.name ?? process.env.USER ?? "terminal"
  const input = createInterface({ input: process.stdin })
  Effect.runPromise(
    runClient(ports.map((p) => `ws://${host}:${p}/chat`), name, input, (line) => console.log(line)).pipe(Effect.provide(NodeConnector.layer))
  ).then(() => process.exit(0), (error) => fail(String(error)))
} else {
  // The edge: Node's server, with the page on the same port (Bun, Deno: examples/runtimes), and a hub.
  const hub = redis === undefined ? Hub.layer : RedisHub.layer({ url: redis, onEvent: logHub })
  const presenceInterval = values["presence-ms"] === undefined ? undefined : Number(values["presence-ms"])
  Effect.runPromise(Effect.gen(function*() {
    const server = yield* serveChat({ host, port, presenceInterval })
    console.log(`chat: open ${server.url} in a browser (add ?name=you)`)
    console.log(`chat: server ${server.name}, ${redis === undefined ? "one process (in-process hub)" : `sharing ${redis} with other processes`}`)
    console.log(`chat: from a terminal: npx -y pnpm@10.34.9 chat --name you${port === 8080 ? "" : ` --port ${port}`}`)
    return yield* Effect.never
  }).pipe(Effect.scoped, Effect.provide([hub, layerWithPage(pageDir)]))).catch((error) =>
    fail(String(error).includes("already in use")
      ? `chat: ${host}:${port} is already in use (is the demo already running?). Use --port to pick another.`
      : `chat: ${String(error)}`)
  )
}

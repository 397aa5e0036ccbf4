// A benchmark server for the Bun and Deno rows, run by that runtime (`bun runtime-server.mjs
// <kind>`, `deno run -A runtime-server.mjs <kind>`); bench/runtimes.mjs drives it from Node.
// Kinds:
//   bytechannel  BunServer.serve (on Bun) or DenoServer.serve (on Deno), one handler written as a
//                user would (the same as bench/ends-server.mjs's for NodeServer)
//   raw          the runtime's own WebSocket server: Bun.serve's websocket handlers, or Deno.serve
//                with Deno.upgradeWebSocket
// Paths: /sink?total=N (counts bytes, sends "ok" once N arrived), anything else echoes.
// Prints one JSON line {"port", "statsPort", "runtime"}: statsPort is a plain HTTP server in the
// same process answering {"cpuMs", "rss"} (CPU time, user + system, so far; resident set size).
import process from "node:process"

const kind = process.argv[2]
const isBun = typeof globalThis.Bun !== "undefined"
const isDeno = typeof globalThis.Deno !== "undefined"
const runtime = isBun ? `bun ${globalThis.Bun.version}` : isDeno ? `deno ${globalThis.Deno.version.deno}` : `node ${process.version}`
const ok = new TextEncoder().encode("ok")
const length = (data) => (typeof data === "string" ? new TextEncoder().encode(data).length : data.byteLength)

/** A plain HTTP server (the runtime's own) on an OS-chosen port: `fetch` answers every request; resolves to its port. */
const listenHttp = (fetch) =>
  isBun
    ? Promise.resolve(globalThis.Bun.serve({ hostname: "127.0.0.1", port: 0, fetch }).port)
    : new Promise((resolve) => globalThis.Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: ({ port }) => resolve(port) }, fetch))

// ---- bytechannel: BunServer or DenoServer, loaded from the package's build ----
const serveBytechannel = async () => {
  const pkg = isBun ? "bun" : "deno"
  const module = await import(new URL(`../packages/${pkg}/dist/index.js`, import.meta.url).href)
  const Server = isBun ? module.BunServer : module.DenoServer
  const [Effect, Stream] = await Promise.all([import("effect/Effect"), import("effect/Stream")])
  const handler = (channel, info) => {
    const url = new URL(info.url, "http://x")
    if (url.pathname === "/sink") {
      const total = Number(url.searchParams.get("total"))
      let received = 0
      return Stream.runForEach(channel.read, (chunk) => {
        const before = received
        received += chunk.length
        return before < total && received >= total ? channel.send(ok) : Effect.void
      })
    }
    return Stream.run(channel.read, channel.write)
  }
  return new Promise((ready, failed) => {
    Effect.runFork(Effect.scoped(Effect.gen(function*() {
      const server = yield* Server.serve({ host: "127.0.0.1", port: 0 }, handler)
      ready(server.port)
      return yield* Effect.never
    })).pipe(Effect.tapCause((cause) => Effect.sync(() => failed(new Error(String(cause)))))))
  })
}

// ---- raw: the runtime's own server ----
const sinkState = (url) => ({ path: url.pathname, total: Number(url.searchParams.get("total")), received: 0 })
const onMessage = (state, data, send) => {
  if (state.path === "/sink") {
    const before = state.received
    state.received += length(data)
    if (before < state.total && state.received >= state.total) send(ok)
  } else send(data)
}
const serveRaw = async () => {
  if (isBun) {
    const server = globalThis.Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: (request, server) => server.upgrade(request, { data: sinkState(new URL(request.url)) }) ? undefined : new Response("upgrade", { status: 426 }),
      websocket: {
        perMessageDeflate: false,
        maxPayloadLength: 16 * 1024 * 1024,
        message: (ws, data) => onMessage(ws.data, data, (bytes) => ws.send(bytes))
      }
    })
    return server.port
  }
  return listenHttp((request) => {
    const { socket, response } = globalThis.Deno.upgradeWebSocket(request)
    socket.binaryType = "arraybuffer"
    const state = sinkState(new URL(request.url))
    socket.onmessage = (event) => onMessage(state, event.data, (bytes) => socket.send(bytes))
    return response
  })
}

const serve = { bytechannel: serveBytechannel, raw: serveRaw }[kind]
if (serve === undefined) throw new Error(`runtime-server: unknown kind ${kind}`)
const port = await serve()
const statsPort = await listenHttp(() => {
  const { user, system } = process.cpuUsage()
  return Response.json({ cpuMs: (user + system) / 1000, rss: process.memoryUsage.rss() })
})
console.log(JSON.stringify({ port, statsPort, runtime }))

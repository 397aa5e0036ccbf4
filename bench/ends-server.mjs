// A benchmark server for the both-ends rows, in its own process (forked with an IPC channel) so
// its RSS is its own. argv[2] is the kind:
//   bytechannel  NodeServer.serve with one handler, written as a user would with the public API
//   ws           a plain ws WebSocketServer
//   net          node:net (the ceiling; no /firehose)
// Paths (ws kinds; net serves /sink and /echo on ports of their own):
//   /sink?total=N  counts bytes, sends "ok" once N arrived, then waits for the client to close
//   /echo          sends every message back
//   /firehose      writes 64 KiB messages as fast as the connection's backpressure allows
// IPC: sends {"ready": {port, sinkPort?, echoPort?}} once listening; answers {id, ...} to
//   {id, op: "reset"}  starts a new peak-RSS and CPU window
//   {id, op: "stats"}  {idle, peak, rss, cpuMs, sent, connections, bufferedAmount}: RSS at idle
//                      (after start-up and a GC, before any connection), the peak sampled since
//                      the last reset, CPU time (user + system) since the last reset, bytes the
//                      firehose wrote, connections open, and ws's bufferedAmount of the firehose
//                      (ws kind only)
// Honours WS_NO_BUFFER_UTIL=1 like ws itself (the parent sets it in the environment).
import * as Net from "node:net"
import { wsMasking } from "./lib.mjs"

const kind = process.argv[2]
const CHUNK = Buffer.alloc(64 * 1024, 9)
const HIGH_WATER = 1024 * 1024 // the firehose of the ws kind keeps at most this much in ws's buffer, as bytechannel's sendHighWaterMark
const ok = new TextEncoder().encode("ok")

let sent = 0
let firehose // the ws kind's firehose connection, for its bufferedAmount
let connections = () => 0

// Each kind loads only its own modules, so an idle server's RSS is its library's.
// ---- bytechannel: what a user writes ----
const serveBytechannel = async () => {
  const { NodeServer } = await import("@bytechannel/node")
  const Effect = await import("effect/Effect")
  const Stream = await import("effect/Stream")
  return new Promise((ready) => {
    const handler = (channel, info) => {
      const url = new URL(info.url, "http://x")
      switch (url.pathname) {
        case "/sink": {
          const total = Number(url.searchParams.get("total"))
          return channel.read.pipe(
            Stream.runFoldWhile(0, (received) => received < total, (received, chunk) => received + chunk.length),
            Effect.zipRight(channel.send(ok)),
            Effect.zipRight(Stream.runDrain(channel.read)) // until the client closes
          )
        }
        case "/firehose":
          return Stream.repeatEffect(Effect.sync(() => {
            sent += CHUNK.length
            return CHUNK
          })).pipe(Stream.run(channel.write))
        default:
          return Stream.run(channel.read, channel.write)
      }
    }
    Effect.runFork(Effect.gen(function*() {
      const server = yield* NodeServer.serve({ host: "127.0.0.1", port: 0 }, handler)
      connections = server.connections
      ready({ port: server.port })
      return yield* Effect.never
    }).pipe(Effect.scoped))
  })
}

// ---- ws: the same three paths with ws's own API ----
const serveWs = async () => {
  const { WebSocketServer } = await import("ws")
  return new Promise((ready) => {
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, perMessageDeflate: false, maxPayload: 16 * 1024 * 1024 })
    wss.on("connection", (ws, request) => {
      const url = new URL(request.url, "http://x")
      ws.on("error", () => {})
      if (url.pathname === "/sink") {
        const total = Number(url.searchParams.get("total"))
        let received = 0
        ws.on("message", (data) => {
          received += data.length
          if (received >= total) ws.send(ok)
        })
      } else if (url.pathname === "/firehose") {
        // ws has no drain event: send while its buffer is under the mark, and go on from the
        // callback of a send (called once that message is handed to the socket).
        firehose = ws
        const pump = () => {
          while (ws.readyState === ws.OPEN && ws.bufferedAmount < HIGH_WATER) {
            sent += CHUNK.length
            ws.send(CHUNK, pump)
          }
        }
        pump()
      } else {
        ws.on("message", (data, isBinary) => ws.send(data, { binary: isBinary }))
      }
    })
    connections = () => wss.clients.size
    wss.on("listening", () => ready({ port: wss.address().port }))
  })
}

// ---- node:net: the ceiling ----
const serveNet = async () => {
  const listen = (server) => new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve(server.address().port)))
  const sink = Net.createServer({ noDelay: true }, (socket) => {
    socket.on("error", () => {})
    let total = -1
    let received = 0
    let head = Buffer.alloc(0)
    // The first 8 bytes say how many follow (TCP has no URL to carry it).
    socket.on("data", (chunk) => {
      if (total < 0) {
        head = Buffer.concat([head, chunk])
        if (head.length < 8) return
        total = Number(head.readBigUInt64BE(0))
        chunk = head.subarray(8)
      }
      received += chunk.length
      if (received >= total && total >= 0) {
        socket.write("k")
        total = Infinity
      }
    })
  })
  const echo = Net.createServer({ noDelay: true }, (socket) => {
    socket.on("error", () => {})
    socket.pipe(socket)
  })
  return { sinkPort: await listen(sink), echoPort: await listen(echo) }
}

const address = await (kind === "bytechannel" ? serveBytechannel() : kind === "ws" ? serveWs() : serveNet())

globalThis.gc?.()
const idle = process.memoryUsage.rss()
let peak = idle
const sample = () => {
  const rss = process.memoryUsage.rss()
  if (rss > peak) peak = rss
  return rss
}
setInterval(sample, 5).unref()
let cpuAtReset = process.cpuUsage()
process.on("message", ({ id, op }) => {
  // No forced GC here: after one, NodeServer ran the next 64 MiB at about half its speed (V8's
  // heap sizing starts over; ws's small heap hardly notices), and no server gets one under load.
  if (op === "reset") {
    peak = 0
    cpuAtReset = process.cpuUsage()
  }
  const rss = sample()
  const cpu = process.cpuUsage(cpuAtReset)
  process.send({ id, idle, peak, rss, cpuMs: (cpu.user + cpu.system) / 1000, sent, connections: connections(), bufferedAmount: firehose?.bufferedAmount ?? null })
})
process.on("disconnect", () => process.exit(0))
process.on("SIGINT", () => process.exit(0)) // lets --cpu-prof write its profile
process.send({ ready: { ...address, masking: await wsMasking() } })

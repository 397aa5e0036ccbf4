// A benchmark server for the both-ends rows, in its own process (forked with an IPC channel) so
// its RSS and heap are its own. argv[2] is the kind:
//   bytechannel  NodeServer.serve with one handler, written as a user would with the public API
//   effect       Effect 4's own socket server: @effect/platform-node's NodeSocketServer.makeWebSocket
//                (ws underneath), each connection an effect/socket Socket (its /firehose stops only
//                at a cap: its WebSocket writer does not wait for the socket to drain)
//   ws           a plain ws WebSocketServer
//   net          node:net (the ceiling; no /firehose)
// `--root <dir>` (bytechannel only): the checkout whose built packages/*/dist and whose `effect`
// are loaded (default: this workspace). The handler uses only API that Effect 3 and Effect 4
// share, so one file serves the port and the last Effect 3 commit alike.
// Paths (ws kinds; net serves /sink and /echo on ports of their own):
//   /sink?total=N  counts bytes, sends "ok" once N arrived, then reads on until the client closes
//   /echo          sends every message back
//   /firehose      writes 64 KiB messages as fast as the connection's backpressure allows
//   /hub           the fan-out program: subscribes the connection to one topic (one byte says so),
//                  forwards every message any connection publishes there, publishes what it reads
// IPC: sends {"ready": {port, sinkPort?, echoPort?, masking, effect?}} once listening; answers {id, ...} to
//   {id, op: "reset"}  starts a new peak-RSS and CPU window
//   {id, op: "stats"}  {idle, peak, rss, cpuMs, sent, connections, bufferedAmount}: RSS at idle
//                      (after start-up and a GC, before any connection), the peak sampled since
//                      the last reset, CPU time (user + system) since the last reset, bytes the
//                      firehose wrote, connections open, and ws's bufferedAmount of the firehose
//                      (ws kind only)
//   {id, op: "memory"} {connections, rss, heap, external, idleRss, idleHeap, idleExternal}: after
//                      full GCs (the process runs with --expose-gc), now and at idle
// Honours WS_NO_BUFFER_UTIL=1 like ws itself (the parent sets it in the environment).
import * as Net from "node:net"
import { loadBytechannel, settle, wsMasking } from "./lib.mjs"

const kind = process.argv[2]
const rootAt = process.argv.indexOf("--root")
const root = rootAt === -1 ? undefined : process.argv[rootAt + 1]
const CHUNK = Buffer.alloc(64 * 1024, 9)
const HIGH_WATER = 1024 * 1024 // the firehose of the ws kind keeps at most this much in ws's buffer, as bytechannel's sendHighWaterMark
const HUB_BUFFER = 1024 // messages held per /hub subscriber (the Hub's default bufferSize)
const READY = new Uint8Array([0]) // /hub: sent once the connection is subscribed
const hubSubscribers = new Set() // the ws kind's /hub subscribers
const FIREHOSE_CAP = 256 * 1024 * 1024 // the effect kind's /firehose stops there (it has no backpressure to stop it)
const BACKLOG = 2048 // NodeServer's default listen backlog; the ws and effect servers get the same
const ok = new TextEncoder().encode("ok")

let sent = 0
let firehose // the ws kind's firehose connection, for its bufferedAmount
let connections = () => 0
let effectVersion

// Each kind loads only its own modules, so an idle server's memory is its library's.
// ---- bytechannel: what a user writes ----
const serveBytechannel = async () => {
  const { Effect, Hub, NodeServer, Stream, effectVersion: version, repeatSync } = await loadBytechannel(root)
  effectVersion = version
  let hub // the /hub connections' in-process Hub, made on first use
  return new Promise((ready) => {
    const handler = (channel, info) => {
      const url = new URL(info.url, "http://x")
      switch (url.pathname) {
        case "/hub":
          // The Hub program: subscribe to one topic (1,024 messages held per subscriber, the
          // default "dropOldest"), say so with one byte, forward the feed, publish what arrives.
          return Effect.gen(function*() {
            hub ??= Hub.make()
            const feed = yield* hub.subscribe("fanout", { bufferSize: HUB_BUFFER })
            yield* channel.send(READY)
            yield* Effect.forkScoped(Stream.run(feed, channel.write))
            yield* Stream.runForEach(channel.read, (bytes) => hub.publish("fanout", bytes))
          }).pipe(Effect.scoped)
        case "/sink": {
          // One pass over the bytes until the client closes: "ok" once `total` arrived.
          const total = Number(url.searchParams.get("total"))
          let received = 0
          return Stream.runForEach(channel.read, (chunk) => {
            const before = received
            received += chunk.length
            return before < total && received >= total ? channel.send(ok) : Effect.void
          })
        }
        case "/firehose":
          return Stream.run(
            repeatSync(() => {
              sent += CHUNK.length
              return CHUNK
            }),
            channel.write
          )
        default:
          return Stream.run(channel.read, channel.write)
      }
    }
    Effect.runFork(Effect.scoped(Effect.gen(function*() {
      const server = yield* NodeServer.serve({ host: "127.0.0.1", port: 0 }, handler)
      connections = server.connections
      ready({ port: server.port })
      return yield* Effect.never
    })))
  })
}

// ---- effect: Effect 4's own socket server, written as its users would ----
const serveEffect = async () => {
  const Effect = await import("effect/Effect")
  const Socket = await import("effect/socket/Socket")
  const NodeSocketServer = await import("@effect/platform-node/NodeSocketServer")
  const PubSub = await import("effect/PubSub")
  let pubsub // the /hub connections' PubSub, made on first use
  let open = 0
  connections = () => open
  const serveOne = (socket) =>
    Effect.gen(function*() {
      const request = yield* NodeSocketServer.IncomingMessage
      const url = new URL(request.url, "http://x")
      const pull = yield* Socket.readerBytes(socket) // the reader: the connection's scope
      const { write, writeAll } = yield* socket.writer
      if (url.pathname === "/hub") {
        // The same program with effect's PubSub (sliding: a publisher never waits; it drops the
        // oldest when 1,024 messages are held), each subscriber's messages written as they come.
        pubsub ??= yield* PubSub.sliding(HUB_BUFFER)
        const subscription = yield* PubSub.subscribe(pubsub)
        yield* write(READY)
        yield* Effect.forkScoped(Effect.forever(Effect.flatMap(PubSub.takeAll(subscription), (messages) => Effect.forEach(messages, write, { discard: true }))))
        while (true) for (const frame of yield* pull) yield* PubSub.publish(pubsub, frame)
      }
      if (url.pathname === "/firehose") {
        // Its writer answers at once (no wait for the socket to drain): the loop goes on until
        // the cap (`cap` MiB, default FIREHOSE_CAP), each message a fresh copy as a producer of new
        // data would send; what the peer does not read piles up in this process and the peer's.
        const cap = Number(url.searchParams.get("cap") ?? FIREHOSE_CAP / (1024 * 1024)) * 1024 * 1024
        while (sent < cap) {
          sent += CHUNK.length
          yield* write(Buffer.from(CHUNK))
        }
        return yield* Effect.never
      }
      if (url.pathname === "/sink") {
        const total = Number(url.searchParams.get("total"))
        let received = 0
        while (true) {
          const before = received
          for (const frame of yield* pull) received += frame.length
          if (before < total && received >= total) yield* write(ok)
        }
      }
      while (true) yield* writeAll(yield* pull) // /echo
    }).pipe(
      Effect.scoped,
      Effect.catch(() => Effect.void), // every end of a connection is a SocketError, a clean close (1000) too
      Effect.ensuring(Effect.sync(() => open--))
    )
  return new Promise((ready) => {
    Effect.runFork(Effect.scoped(Effect.gen(function*() {
      const server = yield* NodeSocketServer.makeWebSocket({
        host: "127.0.0.1",
        port: 0,
        backlog: BACKLOG,
        perMessageDeflate: false,
        maxPayload: 16 * 1024 * 1024
      })
      ready({ port: server.address.port })
      return yield* server.run((socket) => Effect.suspend(() => (open++, serveOne(socket))))
    })))
  })
}

// ---- ws: the same three paths with ws's own API ----
const serveWs = async () => {
  const { WebSocketServer } = await import("ws")
  return new Promise((ready) => {
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0, backlog: BACKLOG, perMessageDeflate: false, maxPayload: 16 * 1024 * 1024 })
    wss.on("connection", (ws, request) => {
      const url = new URL(request.url, "http://x")
      ws.on("error", () => {})
      if (url.pathname === "/sink") {
        const total = Number(url.searchParams.get("total"))
        let received = 0
        ws.on("message", (data) => {
          const before = received
          received += data.length
          if (before < total && received >= total) ws.send(ok)
        })
      } else if (url.pathname === "/hub") {
        // The same program on ws: a set of subscribers, each holding at most HUB_BUFFER messages
        // not yet handed to its socket (beyond that a message is dropped for it: ws cannot drop
        // the oldest once queued); every message any of them sends goes to all of them.
        const subscriber = { ws, pending: 0, sent: () => subscriber.pending-- }
        hubSubscribers.add(subscriber)
        ws.on("close", () => hubSubscribers.delete(subscriber))
        ws.send(READY)
        ws.on("message", (data) => {
          for (const s of hubSubscribers) {
            if (s.pending >= HUB_BUFFER) continue
            s.pending++
            s.ws.send(data, s.sent)
          }
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
  const listen = (server) => new Promise((resolve) => server.listen(0, "127.0.0.1", BACKLOG, () => resolve(server.address().port)))
  let open = 0
  const track = (socket) => {
    open++
    socket.on("close", () => open--)
  }
  connections = () => open
  const sink = Net.createServer({ noDelay: true }, (socket) => {
    track(socket)
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
    track(socket)
    socket.on("error", () => {})
    socket.pipe(socket)
  })
  return { sinkPort: await listen(sink), echoPort: await listen(echo) }
}

const serve = { bytechannel: serveBytechannel, effect: serveEffect, ws: serveWs, net: serveNet }[kind]
if (serve === undefined) throw new Error(`ends-server: unknown kind ${kind}`)
const address = await serve()

const atIdle = settle()
const idle = atIdle.rss
let peak = idle
const sample = () => {
  const rss = process.memoryUsage.rss()
  if (rss > peak) peak = rss
  return rss
}
setInterval(sample, 5).unref()
let cpuAtReset = process.cpuUsage()
process.on("message", ({ id, op }) => {
  if (op === "memory") {
    const now = settle()
    return process.send({
      id,
      connections: connections(),
      rss: now.rss,
      heap: now.heapUsed,
      external: now.external,
      idleRss: atIdle.rss,
      idleHeap: atIdle.heapUsed,
      idleExternal: atIdle.external
    })
  }
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
process.send({ ready: { ...address, masking: await wsMasking(), ...(effectVersion ? { effect: effectVersion } : {}) } })

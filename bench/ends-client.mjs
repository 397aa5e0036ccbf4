// The client half of the both-ends rows, in its own process (forked with an IPC channel), so
// a driver can run without bufferutil (WS_NO_BUFFER_UTIL=1 in its environment: ws reads it when
// it loads) while another runs with it, and a driver can load another checkout's bytechannel.
// `--root <dir>`: the checkout whose built packages/*/dist and whose `effect` the bytechannel kind
// loads (default: this workspace); only API that Effect 3 and Effect 4 share is used, so one file
// drives the port and the last Effect 3 commit alike. Each request is timed here, without the IPC
// around it:
//   {id, op: "bulk", kind, port, total}         sends `total` bytes in 64 KiB messages to /sink, waits for "ok", closes
//   {id, op: "rtt", kind, port, count, path?}   `count` sequential 64 B echoes (path: /echo); answers the latencies (ms)
//   {id, op: "many", kind, port, connections}   that many connections at once, each echoing 10 × 1 KiB (verified), closed
//   {id, op: "idle", kind, port, connections}   opens that many (at most OPEN_AT_ONCE handshakes in flight), each
//                                               echoing 64 B once (verified), and keeps them open; answers the
//                                               memory it holds then (after full GCs) and at its start
//   {id, op: "fanout-open", kind, port, connections}  opens that many to /hub (at most OPEN_AT_ONCE handshakes in
//                                               flight), each subscribed (the server's one byte), and holds them
//   {id, op: "fanout-run", messages, publishers}  publishers among them send `messages` of 128 B in turn; done
//                                               once every client has every message (units: deliveries)
//   {id, op: "close"}                           closes what "idle" or "fanout-open" holds (close handshakes), answers the memory after
//   {id, op: "memory"}                          answers the memory now (after full GCs)
// kind: "bytechannel" (NodeConnector), "effect" (Effect 4's own socket: effect/socket
// Socket.makeWebSocket with @effect/platform-node's NodeSocket.layerWebSocketConstructor, i.e.
// Node's global WebSocket), "ws" (a plain ws client), "net" (node:net; `port` is the sink's or
// the echo's; not for "idle"). Answers {id, units, seconds, cpuMs, latencies?, memory?} or
// {id, error}; cpuMs is this process's CPU time (user + system) during the run.
import { once } from "node:events"
import * as Net from "node:net"
import { performance } from "node:perf_hooks"
import { loadBytechannel, netRoundTrips, settle, wsMasking, wsRoundTrips } from "./lib.mjs"
import { WebSocket } from "ws"

const rootAt = process.argv.indexOf("--root")
const root = rootAt === -1 ? undefined : process.argv[rootAt + 1]
const CHUNK = 64 * 1024
const OPEN_AT_ONCE = 256 // the idle scenario's handshakes in flight (every kind alike)
const payload = Buffer.alloc(CHUNK, 7)
const small = Buffer.alloc(64, 1)

// Each kind's library is loaded on its first use (the bytechannel kind from `root`).
let bytechannelModules
const bytechannel = async () => (bytechannelModules ??= await loadBytechannel(root))
let effectModules
const effectSocket = async () =>
  (effectModules ??= await (async () => {
    const [Effect, Socket, NodeSocket, Fiber] = await Promise.all([import("effect/Effect"), import("effect/socket/Socket"), import("@effect/platform-node/NodeSocket"), import("effect/Fiber")])
    return { Effect, Socket, Fiber, layer: NodeSocket.layerWebSocketConstructor }
  })())

const runBytechannel = async (f) => {
  const modules = await bytechannel()
  const { Effect, NodeConnector } = modules
  return Effect.runPromise(Effect.provide(Effect.scoped(f(modules)), NodeConnector.layer))
}
const runEffectSocket = async (f) => {
  const modules = await effectSocket()
  const { Effect, layer } = modules
  return Effect.runPromise(Effect.provide(Effect.scoped(f(modules)), layer))
}

/** Effect 4's socket, connected: its frames' pull and its writer (in the enclosing scope). */
const openEffectSocket = ({ Effect, Socket }, url) =>
  Effect.gen(function*() {
    const socket = yield* Socket.makeWebSocket(url, { openTimeout: "120 seconds" })
    const pull = yield* Socket.readerBytes(socket) // connects
    const { write } = yield* socket.writer
    return { pull, write }
  })
/** Pulls frames until `bytes` arrived; their concatenation. */
const pullBytes = ({ Effect }, pull, bytes) =>
  Effect.gen(function*() {
    const parts = []
    let received = 0
    while (received < bytes) {
      for (const frame of yield* pull) {
        parts.push(frame)
        received += frame.length
      }
    }
    return Buffer.concat(parts)
  })
/** The close handshake: a close frame (1000), then frames until the peer's close ends the reader. */
const closeEffectSocket = ({ Effect, Socket }, { pull, write }) =>
  Effect.gen(function*() {
    yield* write(new Socket.CloseEvent(1000))
    while (true) yield* pull
  }).pipe(Effect.catch(() => Effect.void))

/** Reads from a ByteChannel until `bytes` arrived; their concatenation. */
const readBytes = ({ Effect, Option }, channel, bytes) =>
  Effect.gen(function*() {
    const parts = []
    let received = 0
    while (received < bytes) {
      const chunk = Option.getOrThrow(yield* channel.readChunk(bytes - received))
      parts.push(chunk)
      received += chunk.length
    }
    return Buffer.concat(parts)
  })

const openWs = async (url) => {
  const ws = new WebSocket(url, { perMessageDeflate: false })
  await once(ws, "open")
  return ws
}
const openNet = async (port) => {
  const socket = Net.connect({ host: "127.0.0.1", port, noDelay: true })
  await once(socket, "connect")
  return socket
}
const closeWs = async (ws) => {
  const closed = once(ws, "close")
  ws.close(1000)
  await closed
}
const endNet = async (socket) => {
  const closed = once(socket, "close")
  socket.end()
  await closed
}

// ---- bulk: every kind closes cleanly once the server confirmed the last byte ----
const bulk = {
  bytechannel: (port, total) =>
    runBytechannel(({ ByteChannel, Effect, Stream, repeatSync }) =>
      Effect.gen(function*() {
        const channel = yield* ByteChannel.connect(`ws://127.0.0.1:${port}/sink?total=${total}`)
        yield* Stream.run(Stream.take(repeatSync(() => payload), total / CHUNK), channel.write)
        yield* channel.readChunk() // "ok"; the scope closes with 1000
      })
    ),
  // Effect's WebSocket writer hands each message to the WebSocket at once (no backpressure).
  effect: (port, total) =>
    runEffectSocket((modules) =>
      modules.Effect.gen(function*() {
        const socket = yield* openEffectSocket(modules, `ws://127.0.0.1:${port}/sink?total=${total}`)
        for (let i = 0; i < total / CHUNK; i++) yield* socket.write(payload)
        yield* pullBytes(modules, socket.pull, 2) // "ok"
        yield* closeEffectSocket(modules, socket)
      })
    ),
  // ws as most of its users send: in a loop, ws queueing what the socket does not take yet.
  ws: async (port, total) => {
    const ws = await openWs(`ws://127.0.0.1:${port}/sink?total=${total}`)
    const done = once(ws, "message")
    for (let i = 0; i < total / CHUNK; i++) ws.send(payload)
    await done
    await closeWs(ws)
  },
  net: async (port, total) => {
    const socket = await openNet(port)
    const head = Buffer.alloc(8)
    head.writeBigUInt64BE(BigInt(total))
    socket.write(head)
    const done = once(socket, "data")
    for (let i = 0; i < total / CHUNK; i++) if (!socket.write(payload)) await once(socket, "drain")
    await done
    await endNet(socket)
  }
}

// ---- sequential round trips ----
const rtt = {
  bytechannel: (port, count, samples, path) =>
    runBytechannel((modules) =>
      modules.Effect.gen(function*() {
        const channel = yield* modules.ByteChannel.connect(`ws://127.0.0.1:${port}${path}`)
        for (let i = 0; i < count; i++) {
          const start = performance.now()
          yield* channel.send(small)
          let received = 0
          while (received < small.length) received += modules.Option.getOrThrow(yield* channel.readChunk()).length
          samples.push(performance.now() - start)
        }
      })
    ),
  effect: (port, count, samples, path) =>
    runEffectSocket((modules) =>
      modules.Effect.gen(function*() {
        const socket = yield* openEffectSocket(modules, `ws://127.0.0.1:${port}${path}`)
        for (let i = 0; i < count; i++) {
          const start = performance.now()
          yield* socket.write(small)
          let received = 0
          while (received < small.length) for (const frame of yield* socket.pull) received += frame.length
          samples.push(performance.now() - start)
        }
        yield* closeEffectSocket(modules, socket)
      })
    ),
  ws: async (port, count, samples, path) => {
    const ws = await openWs(`ws://127.0.0.1:${port}${path}`)
    await wsRoundTrips(ws, small, count, samples)
    await closeWs(ws)
  },
  net: async (port, count, samples) => {
    const socket = await openNet(port)
    await netRoundTrips(socket, small, count, samples)
    await endNet(socket)
  }
}

// ---- many connections: each sends 10 × 1 KiB of its own pattern and checks every echoed byte ----
const ECHOES = 10
const KIB = 1024
const patternOf = (n, size = KIB) => Buffer.alloc(size, n % 251)
const check = (n, bytes, size = KIB) => {
  if (!bytes.equals(patternOf(n, size))) throw new Error(`connection ${n}: echoed bytes differ`)
}
const range = (count) => Array.from({ length: count }, (_, n) => n)
const many = {
  bytechannel: (port, connections) =>
    runBytechannel((modules) =>
      modules.Effect.forEach(range(connections), (n) =>
        modules.Effect.scoped(modules.Effect.gen(function*() {
          // ws's client has no opening deadline; with 1,000 handshakes at once on a small machine
          // the last can take longer than the default 10 s, so bytechannel gets a long one too.
          const channel = yield* modules.ByteChannel.connect(`ws://127.0.0.1:${port}/echo`, { openTimeout: "120 seconds" })
          const message = patternOf(n)
          for (let i = 0; i < ECHOES; i++) {
            yield* channel.send(message)
            check(n, yield* readBytes(modules, channel, KIB))
          }
        })), { concurrency: "unbounded", discard: true }) // each scope: the close handshake (1000)
    ),
  effect: (port, connections) =>
    runEffectSocket((modules) =>
      modules.Effect.forEach(range(connections), (n) =>
        modules.Effect.scoped(modules.Effect.gen(function*() {
          const socket = yield* openEffectSocket(modules, `ws://127.0.0.1:${port}/echo`)
          const message = patternOf(n)
          for (let i = 0; i < ECHOES; i++) {
            yield* socket.write(message)
            check(n, yield* pullBytes(modules, socket.pull, KIB))
          }
          yield* closeEffectSocket(modules, socket)
        })), { concurrency: "unbounded", discard: true })
    ),
  ws: (port, connections) =>
    Promise.all(range(connections).map(async (n) => {
      const ws = await openWs(`ws://127.0.0.1:${port}/echo`)
      const message = patternOf(n)
      for (let i = 0; i < ECHOES; i++) {
        const reply = once(ws, "message")
        ws.send(message)
        check(n, (await reply)[0])
      }
      await closeWs(ws)
    })),
  net: (port, connections) =>
    Promise.all(range(connections).map(async (n) => {
      const socket = await openNet(port)
      const message = patternOf(n)
      let parts = []
      let received = 0
      let wake
      socket.on("data", (chunk) => {
        parts.push(chunk)
        received += chunk.length
        if (received >= KIB) wake()
      })
      for (let i = 0; i < ECHOES; i++) {
        const reply = new Promise((resolve) => (wake = resolve))
        socket.write(message)
        await reply
        check(n, Buffer.concat(parts))
        parts = []
        received = 0
      }
      await endNet(socket)
    }))
}

// ---- idle connections: opened (each echoing 64 B once), held open, then closed on request ----
/** A counting gate: at most `limit` holders at a time. */
const gate = (limit) => {
  let free = limit
  const waiting = []
  return {
    acquire: () => free > 0 ? (free--, Promise.resolve()) : new Promise((resolve) => waiting.push(resolve)),
    release: () => (waiting.length > 0 ? waiting.shift()() : free++)
  }
}
const IDLE_ECHO = 64
/**
 * For the Effect kinds: `count` connections, each in a fiber of its own that opens it through the
 * gate, echoes once, and holds it until closing; resolves to the closer once every one is open.
 */
const holdEffect = async ({ Effect }, run, count, open) => {
  const handshakes = gate(OPEN_AT_ONCE)
  let opened = 0
  let allOpen
  let release
  const closing = new Promise((resolve) => (release = resolve))
  const ready = new Promise((resolve, reject) => (allOpen = { resolve, reject }))
  const done = run(Effect.forEach(range(count), (n) =>
    Effect.scoped(Effect.gen(function*() {
      yield* Effect.promise(handshakes.acquire)
      const close = yield* open(n)
      handshakes.release()
      if (++opened === count) allOpen.resolve()
      yield* Effect.promise(() => closing)
      yield* close
    })), { concurrency: "unbounded", discard: true }))
  done.catch(allOpen.reject)
  await ready
  return () => {
    release()
    return done
  }
}
const idle = {
  bytechannel: async (port, count) => {
    const modules = await bytechannel()
    const { ByteChannel, Effect, NodeConnector } = modules
    return holdEffect(modules, (effect) => Effect.runPromise(Effect.provide(effect, NodeConnector.layer)), count, (n) =>
      Effect.gen(function*() {
        const channel = yield* ByteChannel.connect(`ws://127.0.0.1:${port}/echo`, { openTimeout: "120 seconds" })
        yield* channel.send(patternOf(n, IDLE_ECHO))
        check(n, yield* readBytes(modules, channel, IDLE_ECHO), IDLE_ECHO)
        return Effect.void // the scope closes it (the close handshake, 1000)
      }))
  },
  effect: async (port, count) => {
    const modules = await effectSocket()
    const { Effect, layer } = modules
    return holdEffect(modules, (effect) => Effect.runPromise(Effect.provide(effect, layer)), count, (n) =>
      Effect.gen(function*() {
        const socket = yield* openEffectSocket(modules, `ws://127.0.0.1:${port}/echo`)
        yield* socket.write(patternOf(n, IDLE_ECHO))
        check(n, yield* pullBytes(modules, socket.pull, IDLE_ECHO), IDLE_ECHO)
        return closeEffectSocket(modules, socket)
      }))
  },
  ws: async (port, count) => {
    const handshakes = gate(OPEN_AT_ONCE)
    const sockets = await Promise.all(range(count).map(async (n) => {
      await handshakes.acquire()
      const ws = await openWs(`ws://127.0.0.1:${port}/echo`)
      const reply = once(ws, "message")
      ws.send(patternOf(n, IDLE_ECHO))
      check(n, (await reply)[0], IDLE_ECHO)
      handshakes.release()
      return ws
    }))
    return () => Promise.all(sockets.map(closeWs))
  }
}

// ---- fan-out through a hub: every client subscribed (the server's one byte), publishers send ----
// Each kind opens `count` clients to /hub (at most OPEN_AT_ONCE handshakes in flight), counting
// every byte they read into `fan`; each resolves once its subscription byte arrived. What
// "fanout-open" opened, "fanout-run" publishes through, and "close" closes.
const fan = { clients: [], delivered: 0, expected: Infinity, wake: undefined }
const tally = (client, bytes) => {
  if (client.received === 0) client.subscribed()
  client.received += bytes
  fan.delivered += bytes
  if (fan.delivered >= fan.expected) fan.wake?.()
}
const fanClient = () => {
  const client = { received: 0 }
  client.ready = new Promise((resolve) => (client.subscribed = resolve))
  fan.clients.push(client)
  return client
}
const fanoutOpen = {
  bytechannel: async (port, count) => {
    const modules = await bytechannel()
    const { ByteChannel, Effect, NodeConnector, Stream } = modules
    return holdEffect(modules, (effect) => Effect.runPromise(Effect.provide(effect, NodeConnector.layer)), count, () =>
      Effect.gen(function*() {
        const channel = yield* ByteChannel.connect(`ws://127.0.0.1:${port}/hub`, { openTimeout: "120 seconds" })
        const client = fanClient()
        client.send = (bytes) => Effect.runPromise(channel.send(bytes))
        yield* Effect.forkScoped(Stream.runForEach(channel.read, (chunk) => Effect.sync(() => tally(client, chunk.length))))
        yield* Effect.promise(() => client.ready)
        return Effect.void // the scope closes it (the close handshake, 1000)
      }))
  },
  effect: async (port, count) => {
    const modules = await effectSocket()
    const { Effect, layer } = modules
    return holdEffect(modules, (effect) => Effect.runPromise(Effect.provide(effect, layer)), count, () =>
      Effect.gen(function*() {
        const socket = yield* openEffectSocket(modules, `ws://127.0.0.1:${port}/hub`)
        const client = fanClient()
        client.send = (bytes) => Effect.runPromise(socket.write(bytes))
        const reading = yield* Effect.forkScoped(Effect.forever(Effect.map(socket.pull, (frames) => {
          for (const frame of frames) tally(client, frame.length)
        })).pipe(Effect.catch(() => Effect.void)))
        yield* Effect.promise(() => client.ready)
        // The close handshake: a close frame (1000); the reader ends with the peer's close.
        return Effect.andThen(socket.write(new modules.Socket.CloseEvent(1000)), modules.Fiber.join(reading))
      }))
  },
  ws: async (port, count) => {
    const handshakes = gate(OPEN_AT_ONCE)
    const sockets = await Promise.all(range(count).map(async () => {
      await handshakes.acquire()
      // Listening before "open": the server's byte can come in the same read as the handshake.
      const ws = new WebSocket(`ws://127.0.0.1:${port}/hub`, { perMessageDeflate: false })
      const client = fanClient()
      client.send = (bytes) => ws.send(bytes)
      ws.on("message", (data) => tally(client, data.length))
      await once(ws, "open")
      await client.ready
      handshakes.release()
      return ws
    }))
    return () => Promise.all(sockets.map(closeWs))
  }
}
/** Publishes `messages` of 128 B from `publishers` of the open clients, in turn; resolves once every client has every one. */
const fanoutRun = async (messages, publishers) => {
  const clients = fan.clients
  const step = Math.max(1, Math.floor(clients.length / publishers))
  fan.delivered = 0
  for (const client of clients) client.received = 1 // the subscription byte is behind them
  fan.expected = clients.length * messages * 128
  const all = new Promise((resolve) => (fan.wake = resolve))
  for (let m = 0; m < messages; m++) await clients[((m % publishers) * step) % clients.length].send(Buffer.alloc(128, m % 251))
  if (fan.delivered < fan.expected) await all
  if (fan.delivered !== fan.expected) throw new Error(`fan-out: ${fan.delivered} bytes delivered, expected ${fan.expected}`)
  return clients.length * messages
}

/** The memory still reachable, after full collections. */
const settled = () => {
  const { rss, heapUsed, external } = settle()
  return { rss, heap: heapUsed, external }
}
let held // what "idle" holds open: its closer

process.on("message", async ({ id, op, kind, port, total, count, connections, messages, publishers, path = "/echo" }) => {
  try {
    // No forced GC before a timed run: it halved bytechannel's bulk speed in the run after it (ws
    // lost about 10%), which says more about V8's heap sizing than about either library.
    const samples = []
    let memory
    if (op === "idle") {
      if (kind === "bytechannel") await bytechannel() // the library loaded before the baseline
      if (kind === "effect") await effectSocket()
      memory = { before: settled() }
    }
    const cpuAtStart = process.cpuUsage()
    const start = performance.now()
    let units
    if (op === "bulk") {
      await bulk[kind](port, total)
      units = total
    } else if (op === "rtt") {
      await rtt[kind](port, count, samples, path)
      units = count
    } else if (op === "many") {
      await many[kind](port, connections)
      units = connections
    } else if (op === "idle") {
      held = await idle[kind](port, connections)
      units = connections
    } else if (op === "fanout-open") {
      fan.clients = []
      held = await fanoutOpen[kind](port, connections)
      units = connections
    } else if (op === "fanout-run") {
      units = await fanoutRun(messages, publishers)
    } else if (op === "close") {
      await held()
      held = undefined
      fan.clients = []
      units = 1
    } else if (op === "memory") {
      units = 0
    } else {
      throw new Error(`unknown op ${op}`)
    }
    const seconds = (performance.now() - start) / 1000
    const cpu = process.cpuUsage(cpuAtStart)
    if (op === "idle") memory.open = settled()
    if (op === "close" || op === "memory") memory = { now: settled() }
    process.send({ id, units, seconds, cpuMs: (cpu.user + cpu.system) / 1000, ...(op === "rtt" ? { latencies: samples } : {}), ...(memory ? { memory } : {}) })
  } catch (error) {
    process.send({ id, error: String(error?.stack ?? error) })
  }
})
process.on("disconnect", () => process.exit(0))
process.on("SIGINT", () => process.exit(0)) // lets --cpu-prof write its profile
process.send({ ready: { masking: await wsMasking(), ...(root ? { effect: (await bytechannel()).effectVersion } : {}) } })

// The client half of the both-ends rows, in its own process (forked with an IPC channel), so a
// driver can run without bufferutil (WS_NO_BUFFER_UTIL=1 in its environment: ws reads it when
// it loads) while another runs with it. Each request is timed here, without the IPC around it:
//   {id, op: "bulk", kind, port, total}         sends `total` bytes in 64 KiB messages to /sink, waits for "ok", closes
//   {id, op: "rtt", kind, port, count, path?}   `count` sequential 64 B echoes (path: /echo); answers the latencies (ms)
//   {id, op: "many", kind, port, connections}   that many connections at once, each echoing 10 × 1 KiB (verified), closed
// kind: "bytechannel" (NodeConnector), "ws" (a plain ws client), "net" (node:net; `port` is the
// sink's or the echo's). Answers {id, units, seconds, cpuMs, latencies?} or {id, error}; cpuMs is
// this process's CPU time (user + system) during the run.
import { ByteChannel } from "@bytechannel/core"
import { NodeConnector } from "@bytechannel/node"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { once } from "node:events"
import * as Net from "node:net"
import { performance } from "node:perf_hooks"
import { netRoundTrips, wsMasking, wsRoundTrips } from "./lib.mjs"
import { WebSocket } from "ws"

const CHUNK = 64 * 1024
const payload = Buffer.alloc(CHUNK, 7)
const small = Buffer.alloc(64, 1)

const runEffect = (effect) => Effect.runPromise(effect.pipe(Effect.scoped, Effect.provide(NodeConnector.layer)))
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
    runEffect(Effect.gen(function*() {
      const channel = yield* ByteChannel.connect(`ws://127.0.0.1:${port}/sink?total=${total}`)
      yield* Stream.run(Stream.repeatValue(payload).pipe(Stream.take(total / CHUNK)), channel.write)
      yield* channel.readChunk() // "ok"; the scope closes with 1000
    })),
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
    runEffect(Effect.gen(function*() {
      const channel = yield* ByteChannel.connect(`ws://127.0.0.1:${port}${path}`)
      for (let i = 0; i < count; i++) {
        const start = performance.now()
        yield* channel.send(small)
        let received = 0
        while (received < small.length) received += Option.getOrThrow(yield* channel.readChunk()).length
        samples.push(performance.now() - start)
      }
    })),
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
const patternOf = (n) => Buffer.alloc(KIB, n % 251)
const check = (n, bytes) => {
  const expected = patternOf(n)
  if (!bytes.equals(expected)) throw new Error(`connection ${n}: echoed bytes differ`)
}
const many = {
  bytechannel: (port, connections) =>
    runEffect(Effect.forEach(Array.from({ length: connections }, (_, n) => n), (n) =>
      Effect.gen(function*() {
        // ws's client has no opening deadline; with 1,000 handshakes at once on a small machine
        // the last can take longer than the default 10 s, so bytechannel gets a long one too.
        const channel = yield* ByteChannel.connect(`ws://127.0.0.1:${port}/echo`, { openTimeout: "120 seconds" })
        const message = patternOf(n)
        for (let i = 0; i < ECHOES; i++) {
          yield* channel.send(message)
          const parts = []
          let received = 0
          while (received < KIB) {
            const chunk = Option.getOrThrow(yield* channel.readChunk(KIB - received))
            parts.push(chunk)
            received += chunk.length
          }
          check(n, Buffer.concat(parts))
        }
      }).pipe(Effect.scoped), { concurrency: "unbounded", discard: true })), // scope: the close handshake (1000)
  ws: (port, connections) =>
    Promise.all(Array.from({ length: connections }, async (_, n) => {
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
    Promise.all(Array.from({ length: connections }, async (_, n) => {
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

process.on("message", async ({ id, op, kind, port, total, count, connections, path = "/echo" }) => {
  try {
    // No forced GC before a run: it halved bytechannel's bulk speed in the run after it (ws lost
    // about 10%), which says more about V8's heap sizing than about either library.
    const samples = []
    const cpuAtStart = process.cpuUsage()
    const start = performance.now()
    let units
    if (op === "bulk") {
      await bulk[kind](port, total)
      units = total
    } else if (op === "rtt") {
      await rtt[kind](port, count, samples, path)
      units = count
    } else {
      await many[kind](port, connections)
      units = connections
    }
    const seconds = (performance.now() - start) / 1000
    const cpu = process.cpuUsage(cpuAtStart)
    process.send({ id, units, seconds, cpuMs: (cpu.user + cpu.system) / 1000, ...(op === "rtt" ? { latencies: samples } : {}) })
  } catch (error) {
    process.send({ id, error: String(error?.stack ?? error) })
  }
})
process.on("disconnect", () => process.exit(0))
process.on("SIGINT", () => process.exit(0)) // lets --cpu-prof write its profile
process.send({ ready: { masking: await wsMasking() } })

// Node transport benchmarks: bulk transfer (64 KiB binary messages) and sequential 64 B round
// trips, bytechannel against raw ws, ws's createWebSocketStream, websocket-stream, it-ws and
// @effect/platform's NodeSocket, with node:net as the ceiling. The server runs in a child process.
import { ByteChannel } from "@bytechannel/core"
import { NodeConnector } from "@bytechannel/node"
import * as Socket from "@effect/platform/Socket"
import * as NodeSocket from "@effect/platform-node/NodeSocket"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { connect as itWsConnect } from "it-ws/client"
import { spawn } from "node:child_process"
import * as Net from "node:net"
import { once } from "node:events"
import { performance } from "node:perf_hooks"
import websocketStream from "websocket-stream"
import { WebSocket, createWebSocketStream } from "ws"
import { compare, emit, quick } from "./lib.mjs"

const MiB = 1024 * 1024
const CHUNK = 64 * 1024
const BULK = (quick ? 32 : 256) * MiB
const MESSAGES = BULK / CHUNK
const ROUND_TRIPS = quick ? 2_000 : 20_000
const payload = Buffer.alloc(CHUNK, 7)
const small = Buffer.alloc(64, 1)

const server = spawn(process.execPath, [new URL("./server.mjs", import.meta.url).pathname, String(BULK)], { stdio: ["ignore", "pipe", "inherit"] })
const [line] = await once(server.stdout.setEncoding("utf8"), "data")
const ports = JSON.parse(line)
process.on("exit", () => server.kill("SIGKILL"))
const wsUrl = (path) => `ws://127.0.0.1:${ports.ws}${path}`

const openWs = async (url) => {
  const ws = new WebSocket(url, { perMessageDeflate: false })
  await once(ws, "open")
  return ws
}

const runEffect = (effect) => Effect.runPromise(effect.pipe(Effect.scoped, Effect.provide(NodeConnector.layer)))
const runPlatform = (effect) => Effect.runPromise(effect.pipe(Effect.scoped, Effect.provide(NodeSocket.layerWebSocketConstructor)))

// Each bulk contender sends BULK bytes and resolves when the server confirmed receiving them all.
const bulk = {
  "bytechannel write Sink": () =>
    runEffect(Effect.gen(function*() {
      const channel = yield* ByteChannel.connect(wsUrl(`/sink?total=${BULK}`))
      yield* Stream.run(Stream.repeatValue(payload).pipe(Stream.take(MESSAGES)), channel.write)
      yield* channel.readChunk() // "ok"
    })).then(() => BULK),
  "raw ws (send in a loop)": async () => {
    const ws = await openWs(wsUrl(`/sink?total=${BULK}`))
    const done = once(ws, "message")
    for (let i = 0; i < MESSAGES; i++) ws.send(payload)
    await done
    ws.terminate()
    return BULK
  },
  "ws createWebSocketStream": async () => {
    const ws = await openWs(wsUrl(`/sink?total=${BULK}`))
    const duplex = createWebSocketStream(ws)
    const done = once(duplex, "data")
    for (let i = 0; i < MESSAGES; i++) if (!duplex.write(payload)) await once(duplex, "drain")
    await done
    ws.terminate()
    return BULK
  },
  "websocket-stream": async () => {
    const stream = websocketStream(wsUrl(`/sink?total=${BULK}`), { perMessageDeflate: false })
    const done = once(stream, "data")
    for (let i = 0; i < MESSAGES; i++) if (!stream.write(payload)) await once(stream, "drain")
    await done
    stream.destroy()
    return BULK
  },
  "it-ws": async () => {
    // it-ws closes the socket when its sink's source ends (its closeOnEnd: false has no
    // effect), so the acknowledgement is read concurrently, as its users pipe both sides.
    const duplex = itWsConnect(wsUrl(`/sink?total=${BULK}`))
    await duplex.connected()
    const ack = (async () => {
      for await (const _ of duplex.source) return
    })()
    await duplex.sink((async function*() {
      for (let i = 0; i < MESSAGES; i++) yield payload
    })())
    await ack
    return BULK
  },
  "@effect/platform NodeSocket": () =>
    runPlatform(Effect.gen(function*() {
      const socket = yield* Socket.makeWebSocket(wsUrl(`/sink?total=${BULK}`))
      const write = yield* socket.writer
      const ack = yield* Effect.fork(socket.runRaw(() => Effect.fail("ok")).pipe(Effect.catchAll(() => Effect.void)))
      for (let i = 0; i < MESSAGES; i++) yield* write(payload)
      yield* ack.await
    })).then(() => BULK),
  "node:net TCP (ceiling)": async () => {
    const socket = Net.connect({ host: "127.0.0.1", port: ports.tcpSink, noDelay: true })
    await once(socket, "connect")
    const done = once(socket, "data")
    for (let i = 0; i < MESSAGES; i++) if (!socket.write(payload)) await once(socket, "drain")
    await done
    socket.destroy()
    return BULK
  }
}

emit(await compare({
  scenario: `bulk: ${BULK / MiB} MiB as 64 KiB binary messages over loopback`,
  unit: "bytes/s",
  baseline: "bytechannel write Sink",
  contenders: Object.entries(bulk).map(([name, run]) => ({ name, run })),
  notes: ["Every contender waits for the server to confirm the last byte. raw ws queues everything in memory (no backpressure)."]
}))

// Round trips: ROUND_TRIPS sequential 64 B echoes; latencies kept for p50/p99.
const latencies = new Map()
const timed = (name, loop) => async () => {
  const samples = []
  await loop(samples)
  latencies.set(name, samples)
  return ROUND_TRIPS
}
const rtt = {
  "bytechannel": timed("bytechannel", (samples) =>
    runEffect(Effect.gen(function*() {
      const channel = yield* ByteChannel.connect(wsUrl("/echo"))
      for (let i = 0; i < ROUND_TRIPS; i++) {
        const start = performance.now()
        yield* channel.send(small)
        yield* channel.readChunk()
        samples.push(performance.now() - start)
      }
    }))),
  "raw ws": timed("raw ws", async (samples) => {
    const ws = await openWs(wsUrl("/echo"))
    let wake
    ws.on("message", () => wake())
    for (let i = 0; i < ROUND_TRIPS; i++) {
      const start = performance.now()
      const reply = new Promise((resolve) => (wake = resolve))
      ws.send(small)
      await reply
      samples.push(performance.now() - start)
    }
    ws.terminate()
  }),
  "websocket-stream": timed("websocket-stream", async (samples) => {
    const stream = websocketStream(wsUrl("/echo"), { perMessageDeflate: false })
    let wake
    stream.on("data", () => wake())
    for (let i = 0; i < ROUND_TRIPS; i++) {
      const start = performance.now()
      const reply = new Promise((resolve) => (wake = resolve))
      stream.write(small)
      await reply
      samples.push(performance.now() - start)
    }
    stream.destroy()
  }),
  "it-ws": timed("it-ws", async (samples) => {
    const duplex = itWsConnect(wsUrl("/echo"))
    await duplex.connected()
    const reader = duplex.source[Symbol.asyncIterator]()
    const ws = duplex.socket
    for (let i = 0; i < ROUND_TRIPS; i++) {
      const start = performance.now()
      ws.send(small)
      await reader.next()
      samples.push(performance.now() - start)
    }
    duplex.close()
  }),
  "@effect/platform NodeSocket": timed("@effect/platform NodeSocket", (samples) =>
    runPlatform(Effect.gen(function*() {
      const socket = yield* Socket.makeWebSocket(wsUrl("/echo"))
      const write = yield* socket.writer
      let wake
      yield* Effect.fork(socket.runRaw(() => Effect.sync(() => wake())))
      for (let i = 0; i < ROUND_TRIPS; i++) {
        const start = performance.now()
        const reply = Effect.async((resume) => {
          wake = () => resume(Effect.void)
        })
        yield* write(small)
        yield* reply
        samples.push(performance.now() - start)
      }
    }))),
  "node:net TCP (ceiling)": timed("node:net TCP (ceiling)", async (samples) => {
    const socket = Net.connect({ host: "127.0.0.1", port: ports.tcpEcho, noDelay: true })
    await once(socket, "connect")
    let wake
    let pending = 0
    socket.on("data", (chunk) => {
      pending -= chunk.length
      if (pending <= 0) wake()
    })
    for (let i = 0; i < ROUND_TRIPS; i++) {
      const start = performance.now()
      pending = small.length
      const reply = new Promise((resolve) => (wake = resolve))
      socket.write(small)
      await reply
      samples.push(performance.now() - start)
    }
    socket.destroy()
  })
}
const result = await compare({
  scenario: `round trip: ${ROUND_TRIPS} sequential 64 B echoes`,
  unit: "round trips/s",
  baseline: "bytechannel",
  contenders: Object.entries(rtt).map(([name, run]) => ({ name, run }))
})
const percentile = (values, p) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))]
const p50 = (name) => percentile(latencies.get(name), 0.5)
for (const row of result.rows) {
  const samples = latencies.get(row.name)
  row.name = `${row.name} (p50 ${(percentile(samples, 0.5) * 1000).toFixed(0)} µs, p99 ${(percentile(samples, 0.99) * 1000).toFixed(0)} µs, p50 ÷ bytechannel ${(percentile(samples, 0.5) / p50("bytechannel")).toFixed(2)})`
}
result.notes = ["Latencies are from the last run of each contender; the ratio column compares round trips per second."]
emit(result)
// Many connections at once: CONNECTIONS clients each echo 10 × 1 KiB and verify the bytes.
const CONNECTIONS = quick ? 200 : 1_000
const kib = Buffer.alloc(1024, 3)
const verify = (bytes) => {
  if (bytes !== 10 * 1024) throw new Error(`echoed ${bytes} bytes, expected ${10 * 1024}`)
}
const many = {
  "bytechannel": () =>
    runEffect(Effect.forEach(Array.from({ length: CONNECTIONS }), () =>
      Effect.gen(function*() {
        const channel = yield* ByteChannel.connect(wsUrl("/echo"))
        let bytes = 0
        for (let i = 0; i < 10; i++) {
          yield* channel.send(kib)
          const next = yield* channel.readChunk()
          bytes += Option.getOrThrow(next).length
        }
        verify(bytes)
      }).pipe(Effect.scoped), { concurrency: "unbounded", discard: true })).then(() => CONNECTIONS),
  "raw ws": () =>
    Promise.all(Array.from({ length: CONNECTIONS }, async () => {
      const ws = await openWs(wsUrl("/echo"))
      let bytes = 0
      for (let i = 0; i < 10; i++) {
        const reply = once(ws, "message")
        ws.send(kib)
        bytes += (await reply)[0].length
      }
      verify(bytes)
      // Like bytechannel's scope, complete the close handshake before counting the connection done.
      const closed = once(ws, "close")
      ws.close()
      await closed
    })).then(() => CONNECTIONS)
}
emit(await compare({
  scenario: `${CONNECTIONS} concurrent connections, each echoing 10 × 1 KiB (verified)`,
  unit: "connections/s",
  baseline: "bytechannel",
  runs: 3,
  contenders: Object.entries(many).map(([name, run]) => ({ name, run }))
}))

server.kill("SIGKILL")
process.exit(0)

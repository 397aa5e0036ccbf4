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
import { compare, emit, forkChild, mean, median, MiB, netRoundTrips, percentile, quick, wsRoundTrips } from "./lib.mjs"

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
    await wsRoundTrips(ws, small, ROUND_TRIPS, samples)
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
    await netRoundTrips(socket, small, ROUND_TRIPS, samples)
    socket.destroy()
  })
}
const result = await compare({
  scenario: `round trip: ${ROUND_TRIPS} sequential 64 B echoes`,
  unit: "round trips/s",
  baseline: "bytechannel",
  contenders: Object.entries(rtt).map(([name, run]) => ({ name, run }))
})
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

// ---- Both ends -------------------------------------------------------------------------------
// The same three scenarios with bytechannel on both ends (NodeServer in a process of its own,
// written with the public API as a user would: bench/ends-server.mjs) against ws on both ends,
// with node:net on both ends as the ceiling. Clients run in a driver process of their own
// (bench/ends-client.mjs) that times each run; a second driver and second servers run with
// WS_NO_BUFFER_UTIL=1 for the bulk rows without bufferutil. Each server reports its RSS: the
// figure given is its peak during a run over its RSS when idle (after start-up, before any
// connection), the median over the runs.
const noBufferutil = { WS_NO_BUFFER_UTIL: "1" }
const withBufferutil = { WS_NO_BUFFER_UTIL: undefined }
const [driver, driverNoBu] = await Promise.all([forkChild("./ends-client.mjs", [], withBufferutil), forkChild("./ends-client.mjs", [], noBufferutil)])
const masking = driver.ready.masking
const maskingNoBu = driverNoBu.ready.masking
/** Fresh servers for each scenario, so each server's RSS is that scenario's alone. */
const startServers = async (kinds, env = withBufferutil) => {
  const servers = await Promise.all(kinds.map((kind) => forkChild("./ends-server.mjs", [kind], env)))
  for (const server of servers) {
    const expected = env === noBufferutil ? maskingNoBu : masking
    if (server.ready.masking !== expected) throw new Error(`server and client mask differently: ${server.ready.masking} vs ${expected}`)
  }
  return servers
}

/** What each both-ends contender's timed runs left: the driver's answer and the server's stats. */
const endsRuns = new Map()
const endsContender = (name, client, server, request) => {
  const runs = []
  endsRuns.set(name, runs)
  return {
    name,
    run: async ({ warmup }) => {
      await server.call({ op: "reset" })
      const done = await client.call(request)
      const stats = await server.call({ op: "stats" })
      if (!warmup) runs.push({ done, stats })
      return done
    }
  }
}
const serverPeak = (name) => median(endsRuns.get(name).map(({ stats }) => (stats.peak - stats.idle) / MiB))
const withServerPeak = (result) => {
  for (const row of result.rows) {
    const runs = endsRuns.get(row.name)
    row.serverPeakMiB = serverPeak(row.name)
    row.clientCpuMs = median(runs.map(({ done }) => done.cpuMs))
    row.serverCpuMs = median(runs.map(({ stats }) => stats.cpuMs))
  }
  return result
}
const ms = (value) => value.toFixed(value >= 100 ? 0 : value >= 10 ? 1 : 2)
/** A note with each row's CPU time per run: less noisy than wall time on a busy machine. */
const cpuNote = (result, per = 1, unit = "run") =>
  `CPU time (user + system) per ${unit}, client + server, median of the runs: ${
    result.rows.map((r) => `${r.name} ${ms(r.clientCpuMs / per)} + ${ms(r.serverCpuMs / per)} ms`).join("; ")
  }.`
const x = (value) => `${value.toFixed(2)}×`
const mib = (value) => `${value.toFixed(1)} MiB`
const verdict = (ok) => (ok ? "✓" : "✗")

// Bulk, with and without bufferutil.
const ENDS_BULK = (quick ? 16 : 256) * MiB
const endsBulk = {
  bc: "bytechannel both ends, bufferutil",
  ws: "ws both ends, bufferutil",
  bcNoBu: "bytechannel both ends, no bufferutil",
  wsNoBu: "ws both ends, no bufferutil",
  net: "node:net both ends (ceiling)"
}
const bulkRequest = (kind, port) => ({ op: "bulk", kind, port, total: ENDS_BULK })
const [bcServerBulk, wsServerBulk, netServerBulk] = await startServers(["bytechannel", "ws", "net"])
const [bcServerNoBu, wsServerNoBu] = await startServers(["bytechannel", "ws"], noBufferutil)
const bulkResult = withServerPeak(await compare({
  scenario: `both ends, bulk: ${ENDS_BULK / MiB} MiB as 64 KiB binary messages, client to server`,
  unit: "bytes/s",
  baseline: endsBulk.bc,
  contenders: [
    endsContender(endsBulk.bc, driver, bcServerBulk, bulkRequest("bytechannel", bcServerBulk.ready.port)),
    endsContender(endsBulk.ws, driver, wsServerBulk, bulkRequest("ws", wsServerBulk.ready.port)),
    endsContender(endsBulk.bcNoBu, driverNoBu, bcServerNoBu, bulkRequest("bytechannel", bcServerNoBu.ready.port)),
    endsContender(endsBulk.wsNoBu, driverNoBu, wsServerNoBu, bulkRequest("ws", wsServerNoBu.ready.port)),
    endsContender(endsBulk.net, driver, netServerBulk, bulkRequest("net", netServerBulk.ready.sinkPort))
  ]
}))
for (const server of [bcServerBulk, wsServerBulk, netServerBulk, bcServerNoBu, wsServerNoBu]) server.kill()
{
  const row = (name) => bulkResult.rows.find((r) => r.name === name)
  const bc = row(endsBulk.bc)
  const same = bc.median / row(endsBulk.ws).median
  const sameNoBu = row(endsBulk.bcNoBu).median / row(endsBulk.wsNoBu).median
  const ceiling = bc.median / row(endsBulk.net).median
  const rss = Math.max(1, bc.serverPeakMiB) / Math.max(1, row(endsBulk.ws).serverPeakMiB)
  bulkResult.notes = [
    `Masking: "${masking}" in the default processes, "${maskingNoBu}" in the others (server and client alike). bytechannel ÷ ws with the same helpers on both sides: ${x(same)} with bufferutil, ${x(sameNoBu)} without (goal ≥ 1.0× ${verdict(same >= 1)}); bytechannel ÷ node:net both ends: ${x(ceiling)} (goal ≥ 0.5× ${verdict(ceiling >= 0.5)}).`,
    `bufferutil's effect (with ÷ without): bytechannel ${x(bc.median / row(endsBulk.bcNoBu).median)}, ws ${x(row(endsBulk.ws).median / row(endsBulk.wsNoBu).median)}.`,
    `Server peak RSS over idle (median of the runs): ${bulkResult.rows.map((r) => `${r.name.replace(/ both ends.*?(, no bufferutil)?$/, "$1").replace(/ \(ceiling\)/, "")} ${mib(r.serverPeakMiB)}`).join(", ")}; NodeServer ÷ ws server ${x(rss)} (goal ≤ 1.2× ${verdict(rss <= 1.2)}; below 1 MiB counts as 1).`,
    "The ws client sends in a loop (ws queues what the socket does not take); bytechannel's client waits on its send high-water mark. Every contender waits for the server's \"ok\" and closes with the close handshake (TCP: FIN both ways).",
    cpuNote(bulkResult, ENDS_BULK / MiB, "MiB")
  ]
  for (const r of bulkResult.rows) r.name = `${r.name} (server peak +${mib(r.serverPeakMiB)})`
}
emit(bulkResult)

// Sequential 64 B round trips: mean, p50 and p99 over every timed run's samples.
const endsRtt = { bc: "bytechannel both ends", ws: "ws both ends", net: "node:net both ends (ceiling)" }
const rttRequest = (kind, port) => ({ op: "rtt", kind, port, count: ROUND_TRIPS })
const [bcServerRtt, wsServerRtt, netServerRtt] = await startServers(["bytechannel", "ws", "net"])
const rttResult = withServerPeak(await compare({
  scenario: `both ends, round trip: ${ROUND_TRIPS} sequential 64 B echoes`,
  unit: "round trips/s",
  baseline: endsRtt.bc,
  contenders: [
    endsContender(endsRtt.bc, driver, bcServerRtt, rttRequest("bytechannel", bcServerRtt.ready.port)),
    endsContender(endsRtt.ws, driver, wsServerRtt, rttRequest("ws", wsServerRtt.ready.port)),
    endsContender(endsRtt.net, driver, netServerRtt, rttRequest("net", netServerRtt.ready.echoPort))
  ]
}))
for (const server of [bcServerRtt, wsServerRtt, netServerRtt]) server.kill()
{
  const stats = new Map(rttResult.rows.map((r) => {
    const samples = endsRuns.get(r.name).flatMap(({ done }) => done.latencies)
    return [r.name, { mean: mean(samples), p50: percentile(samples, 0.5), p99: percentile(samples, 0.99) }]
  }))
  const bc = stats.get(endsRtt.bc)
  const ws = stats.get(endsRtt.ws)
  const us = (ms) => `${(ms * 1000).toFixed(0)} µs`
  rttResult.notes = [
    `Latency, bytechannel ÷ ws both ends: mean ${x(bc.mean / ws.mean)} (goal ≤ 1.2× ${verdict(bc.mean / ws.mean <= 1.2)}), p50 ${x(bc.p50 / ws.p50)}, p99 ${x(bc.p99 / ws.p99)} (goal ≤ 1.2× ${verdict(bc.p99 / ws.p99 <= 1.2)}). Latencies pooled over every timed run; the ratio column compares round trips per second.`,
    cpuNote(rttResult, ROUND_TRIPS / 1000, "1,000 round trips")
  ]
  for (const r of rttResult.rows) {
    const s = stats.get(r.name)
    r.latency = s
    r.name = `${r.name} (p50 ${us(s.p50)}, p99 ${us(s.p99)}, mean ${us(s.mean)}; server peak +${mib(r.serverPeakMiB)})`
  }
}
emit(rttResult)

// Many connections at once, each echoing 10 × 1 KiB (verified) and closed with the close handshake.
const endsMany = { bc: "bytechannel both ends", ws: "ws both ends", net: "node:net both ends (ceiling)" }
const manyRequest = (kind, port) => ({ op: "many", kind, port, connections: CONNECTIONS })
const [bcServerMany, wsServerMany, netServerMany] = await startServers(["bytechannel", "ws", "net"])
const manyResult = withServerPeak(await compare({
  scenario: `both ends, ${CONNECTIONS} concurrent connections, each echoing 10 × 1 KiB (verified), closed cleanly`,
  unit: "connections/s",
  baseline: endsMany.bc,
  runs: quick ? 2 : 3,
  contenders: [
    endsContender(endsMany.bc, driver, bcServerMany, manyRequest("bytechannel", bcServerMany.ready.port)),
    endsContender(endsMany.ws, driver, wsServerMany, manyRequest("ws", wsServerMany.ready.port)),
    endsContender(endsMany.net, driver, netServerMany, manyRequest("net", netServerMany.ready.echoPort))
  ]
}))
{
  const ratio = manyResult.rows[0].median / manyResult.rows.find((r) => r.name === endsMany.ws).median
  manyResult.notes = [
    `bytechannel ÷ ws both ends: ${x(ratio)} (goal ≥ 0.8× ${verdict(ratio >= 0.8)}). All connections open at once; each closes with the close handshake (TCP: FIN both ways) before it counts.`,
    cpuNote(manyResult, CONNECTIONS / 1000, "1,000 connections")
  ]
  for (const r of manyResult.rows) r.name = `${r.name} (server peak +${mib(r.serverPeakMiB)})`
}
emit(manyResult)

process.exit(0)

// Node transport benchmarks: bulk transfer (64 KiB binary messages) and sequential 64 B round
// trips, bytechannel against raw ws, ws's createWebSocketStream, websocket-stream, it-ws and
// Effect 4's own socket (effect/socket with @effect/platform-node's NodeSocket), with node:net as
// the ceiling. The server runs in a child process. Then the same at both ends (see below), with
// the last Effect 3 commit's bytechannel beside the port when BENCH_EFFECT3_ROOT names a built
// checkout of it (bench/run.mjs prepares one for the full run).
import { ByteChannel } from "@bytechannel/core"
import { NodeConnector } from "@bytechannel/node"
import * as NodeSocket from "@effect/platform-node/NodeSocket"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Socket from "effect/socket/Socket"
import * as Stream from "effect/Stream"
import { connect as itWsConnect } from "it-ws/client"
import { spawn, spawnSync } from "node:child_process"
import * as Net from "node:net"
import { once } from "node:events"
import { performance } from "node:perf_hooks"
import websocketStream from "websocket-stream"
import { WebSocket, createWebSocketStream } from "ws"
import { compare, cpuVs, emit, forkChild, mean, median, MiB, netRoundTrips, percentile, quick, times, wsRoundTrips } from "./lib.mjs"

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
const runEffectSocket = (effect) => Effect.runPromise(effect.pipe(Effect.scoped, Effect.provide(NodeSocket.layerWebSocketConstructor)))
/** Effect 4's socket, connected (in the enclosing scope): its frames' pull and its writer's write. */
const openEffectSocket = (url) =>
  Effect.gen(function*() {
    const socket = yield* Socket.makeWebSocket(url)
    const pull = yield* Socket.readerBytes(socket) // connects
    const { write } = yield* socket.writer
    return { pull, write }
  })
const EFFECT_SOCKET = "Effect 4 socket (NodeSocket)"

// Each bulk contender sends BULK bytes and resolves when the server confirmed receiving them all.
const bulk = {
  "bytechannel write Sink": () =>
    runEffect(Effect.gen(function*() {
      const channel = yield* ByteChannel.connect(wsUrl(`/sink?total=${BULK}`))
      yield* Stream.run(Stream.fromEffectRepeat(Effect.succeed(payload)).pipe(Stream.take(MESSAGES)), channel.write)
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
  // Its writer hands each message to Node's WebSocket at once (no backpressure), like raw ws.
  [EFFECT_SOCKET]: () =>
    runEffectSocket(Effect.gen(function*() {
      const { pull, write } = yield* openEffectSocket(wsUrl(`/sink?total=${BULK}`))
      for (let i = 0; i < MESSAGES; i++) yield* write(payload)
      yield* pull // "ok"
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
  [EFFECT_SOCKET]: timed(EFFECT_SOCKET, (samples) =>
    runEffectSocket(Effect.gen(function*() {
      const { pull, write } = yield* openEffectSocket(wsUrl("/echo"))
      for (let i = 0; i < ROUND_TRIPS; i++) {
        const start = performance.now()
        yield* write(small)
        let received = 0
        while (received < small.length) for (const frame of yield* pull) received += frame.length
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
// The same scenarios with bytechannel on both ends (NodeServer in a process of its own, written
// with the public API as a user would: bench/ends-server.mjs) against ws on both ends, Effect 4's
// own socket on both ends (NodeSocketServer.makeWebSocket; Socket.makeWebSocket on Node's
// WebSocket) and, where a built checkout of the last Effect 3 commit is at hand, that commit's
// bytechannel on both ends (the same two scripts, loading its packages/*/dist and its effect),
// with node:net on both ends as the ceiling. Clients run in driver processes of their own
// (bench/ends-client.mjs) that time each run; a second driver and second servers run with
// WS_NO_BUFFER_UTIL=1 for the bulk rows without bufferutil. Each server reports its RSS: the
// figure given is its peak during a run over its RSS when idle (after start-up, before any
// connection), the median over the runs.
const noBufferutil = { WS_NO_BUFFER_UTIL: "1" }
const withBufferutil = { WS_NO_BUFFER_UTIL: undefined }

// The last Effect 3 commit: bench/run.mjs sets BENCH_EFFECT3_ROOT to a built checkout of it (or
// BENCH_EFFECT3_SKIPPED to why there is none); --quick runs without it unless the variable is set.
const effect3Root = process.env.BENCH_EFFECT3_ROOT || undefined
const effect3Skipped = effect3Root
  ? undefined
  : quick
  ? "a --quick run has no Effect 3 rows (the full `pnpm bench` prepares the last Effect 3 commit, 0783d4f, and adds them)"
  : `no Effect 3 rows: ${process.env.BENCH_EFFECT3_SKIPPED ?? "BENCH_EFFECT3_ROOT is not set (run through `pnpm bench`, which prepares a checkout of 0783d4f)"}`
const effect3Args = effect3Root ? ["--root", effect3Root] : []
if (effect3Skipped) console.error(`bench: node.mjs: ${effect3Skipped}`)

const [driver, driverNoBu, driverE3] = await Promise.all([
  forkChild("./ends-client.mjs", [], withBufferutil),
  forkChild("./ends-client.mjs", [], noBufferutil),
  effect3Root ? forkChild("./ends-client.mjs", effect3Args, withBufferutil) : undefined
])
const masking = driver.ready.masking
const maskingNoBu = driverNoBu.ready.masking
const effect3Version = driverE3?.ready.effect
if (effect3Root && !effect3Version?.startsWith("3.")) throw new Error(`BENCH_EFFECT3_ROOT=${effect3Root} loads effect ${effect3Version}, not 3.x`)
if (effect3Root) console.error(`bench: node.mjs: Effect 3 rows from ${effect3Root} (effect ${effect3Version})`)

/** Fresh servers for each scenario, so each server's RSS is that scenario's alone. `kinds`: "bytechannel", "bytechannel-e3", "effect", "ws", "net". */
const serverArgs = (kind) => kind === "bytechannel-e3" ? ["bytechannel", ...effect3Args] : [kind]
const startServers = async (kinds, env = withBufferutil) => {
  const servers = await Promise.all(kinds.map((kind) => forkChild("./ends-server.mjs", serverArgs(kind), env)))
  for (const [i, server] of servers.entries()) {
    const expected = env === noBufferutil ? maskingNoBu : masking
    if (server.ready.masking !== expected) throw new Error(`server and client mask differently: ${server.ready.masking} vs ${expected}`)
    const major = { bytechannel: "4.", "bytechannel-e3": "3." }[kinds[i]]
    if (major && !server.ready.effect?.startsWith(major)) throw new Error(`the ${kinds[i]} server runs on effect ${server.ready.effect}, not ${major}x`)
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
/**
 * The port against the others, throughput (higher is better): bytechannel Effect 4 ÷ Effect 4's
 * own socket, and Effect 3 ÷ Effect 4 (below 1: the port is faster) with both rows' CPU.
 */
const portNote = (result, names, per, unit) => {
  const row = (name) => result.rows.find((r) => r.name === name)
  const bc = row(names.bc)
  const cpu = (r) => `${ms(r.clientCpuMs / per)} + ${ms(r.serverCpuMs / per)} ms`
  const e3 = names.e3 && row(names.e3)
  return [
    `bytechannel Effect 4 ÷ Effect 4 socket both ends: ${x(bc.median / row(names.effect).median)}`,
    e3
      ? `Effect 3 ÷ Effect 4 (bytechannel both ends; below 1: the port is faster): ${x(e3.median / bc.median)}, CPU per ${unit} client + server: Effect 4 ${cpu(bc)}, Effect 3 ${cpu(e3)}`
      : `Effect 3 ÷ Effect 4: ${effect3Skipped}`
  ].join("; ") + "."
}
const effectSocketNote =
  "Effect 4 socket: effect/socket Socket.makeWebSocket over @effect/platform-node's NodeSocket.layerWebSocketConstructor (Node's own WebSocket, which masks without bufferutil) against @effect/platform-node's NodeSocketServer.makeWebSocket (ws underneath); its WebSocket writer does not wait for the socket to drain."

// Row names: the baseline is bytechannel on Effect 4; no other row's name starts with it.
const ROW = {
  bc: "bytechannel Effect 4 both ends",
  e3: "bytechannel Effect 3 both ends",
  effect: "Effect 4 socket both ends",
  ws: "ws both ends",
  net: "node:net both ends (ceiling)"
}

// Bulk, with and without bufferutil.
const ENDS_BULK = (quick ? 16 : 256) * MiB
const endsBulk = {
  bc: `${ROW.bc}, bufferutil`,
  ws: `${ROW.ws}, bufferutil`,
  e3: effect3Root && `${ROW.e3}, bufferutil`,
  effect: ROW.effect,
  bcNoBu: `${ROW.bc}, no bufferutil`,
  wsNoBu: `${ROW.ws}, no bufferutil`,
  net: ROW.net
}
const bulkRequest = (kind, port) => ({ op: "bulk", kind, port, total: ENDS_BULK })
const [bcServerBulk, wsServerBulk, netServerBulk, effectServerBulk, e3ServerBulk] = await startServers(["bytechannel", "ws", "net", "effect", ...(effect3Root ? ["bytechannel-e3"] : [])])
const [bcServerNoBu, wsServerNoBu] = await startServers(["bytechannel", "ws"], noBufferutil)
const bulkResult = withServerPeak(await compare({
  scenario: `both ends, bulk: ${ENDS_BULK / MiB} MiB as 64 KiB binary messages, client to server`,
  unit: "bytes/s",
  baseline: endsBulk.bc,
  contenders: [
    endsContender(endsBulk.bc, driver, bcServerBulk, bulkRequest("bytechannel", bcServerBulk.ready.port)),
    endsContender(endsBulk.ws, driver, wsServerBulk, bulkRequest("ws", wsServerBulk.ready.port)),
    ...(effect3Root ? [endsContender(endsBulk.e3, driverE3, e3ServerBulk, bulkRequest("bytechannel", e3ServerBulk.ready.port))] : []),
    endsContender(endsBulk.effect, driver, effectServerBulk, bulkRequest("effect", effectServerBulk.ready.port)),
    endsContender(endsBulk.bcNoBu, driverNoBu, bcServerNoBu, bulkRequest("bytechannel", bcServerNoBu.ready.port)),
    endsContender(endsBulk.wsNoBu, driverNoBu, wsServerNoBu, bulkRequest("ws", wsServerNoBu.ready.port)),
    endsContender(endsBulk.net, driver, netServerBulk, bulkRequest("net", netServerBulk.ready.sinkPort))
  ]
}))
for (const server of [bcServerBulk, wsServerBulk, netServerBulk, effectServerBulk, e3ServerBulk, bcServerNoBu, wsServerNoBu]) server?.kill()
{
  const row = (name) => bulkResult.rows.find((r) => r.name === name)
  const bc = row(endsBulk.bc)
  const same = bc.median / row(endsBulk.ws).median
  const sameNoBu = row(endsBulk.bcNoBu).median / row(endsBulk.wsNoBu).median
  const ceiling = bc.median / row(endsBulk.net).median
  const rss = Math.max(1, bc.serverPeakMiB) / Math.max(1, row(endsBulk.ws).serverPeakMiB)
  bulkResult.notes = [
    `Masking: "${masking}" in the default processes, "${maskingNoBu}" in the others (server and client alike). bytechannel ÷ ws with the same helpers on both sides: ${x(same)} with bufferutil, ${x(sameNoBu)} without (goal ≥ 1.0× ${verdict(same >= 1)}); bytechannel ÷ node:net both ends: ${x(ceiling)} (goal ≥ 0.5× ${verdict(ceiling >= 0.5)}).`,
    portNote(bulkResult, endsBulk, ENDS_BULK / MiB, "MiB"),
    `bufferutil's effect (with ÷ without): bytechannel ${x(bc.median / row(endsBulk.bcNoBu).median)}, ws ${x(row(endsBulk.ws).median / row(endsBulk.wsNoBu).median)}.`,
    `Server peak RSS over idle (median of the runs): ${bulkResult.rows.map((r) => `${r.name.replace(/ both ends/, "").replace(/ \(ceiling\)/, "")} ${mib(r.serverPeakMiB)}`).join(", ")}; NodeServer ÷ ws server ${x(rss)} (below 1 MiB counts as 1).`,
    "The ws client sends in a loop (ws queues what the socket does not take); bytechannel's client waits on its send high-water mark. Every contender waits for the server's \"ok\" and closes with the close handshake (TCP: FIN both ways).",
    effectSocketNote,
    cpuNote(bulkResult, ENDS_BULK / MiB, "MiB")
  ]
  const e3 = endsBulk.e3 && row(endsBulk.e3)
  const effect = row(endsBulk.effect)
  const ws = row(endsBulk.ws)
  bulkResult.summary = [{
    key: "bulk",
    row: `bulk, ${ENDS_BULK / MiB} MiB in 64 KiB writes`,
    target: "≥ 1.0× ws; ≥ 0.5× node:net",
    now: `${x(same)} ws, ${x(ceiling)} node:net; ${cpuVs(bc, ws)}`,
    ok: same >= 1 && ceiling >= 0.5,
    effect3: e3 ? `${x(e3.median / ws.median)}; ${cpuVs(e3, ws)}` : "not run",
    effectSocket: `${x(effect.median / ws.median)}; ${cpuVs(effect, ws)}`
  }]
  for (const r of bulkResult.rows) r.name = `${r.name} (server peak +${mib(r.serverPeakMiB)})`
}
emit(bulkResult)

// Sequential 64 B round trips: mean, p50 and p99 over every timed run's samples.
const endsRtt = { bc: ROW.bc, ws: ROW.ws, e3: effect3Root && ROW.e3, effect: ROW.effect, net: ROW.net }
const rttRequest = (kind, port) => ({ op: "rtt", kind, port, count: ROUND_TRIPS })
const [bcServerRtt, wsServerRtt, netServerRtt, effectServerRtt, e3ServerRtt] = await startServers(["bytechannel", "ws", "net", "effect", ...(effect3Root ? ["bytechannel-e3"] : [])])
const rttResult = withServerPeak(await compare({
  scenario: `both ends, round trip: ${ROUND_TRIPS} sequential 64 B echoes`,
  unit: "round trips/s",
  baseline: endsRtt.bc,
  contenders: [
    endsContender(endsRtt.bc, driver, bcServerRtt, rttRequest("bytechannel", bcServerRtt.ready.port)),
    endsContender(endsRtt.ws, driver, wsServerRtt, rttRequest("ws", wsServerRtt.ready.port)),
    ...(effect3Root ? [endsContender(endsRtt.e3, driverE3, e3ServerRtt, rttRequest("bytechannel", e3ServerRtt.ready.port))] : []),
    endsContender(endsRtt.effect, driver, effectServerRtt, rttRequest("effect", effectServerRtt.ready.port)),
    endsContender(endsRtt.net, driver, netServerRtt, rttRequest("net", netServerRtt.ready.echoPort))
  ]
}))
for (const server of [bcServerRtt, wsServerRtt, netServerRtt, effectServerRtt, e3ServerRtt]) server?.kill()
{
  const stats = new Map(rttResult.rows.map((r) => {
    const samples = endsRuns.get(r.name).flatMap(({ done }) => done.latencies)
    return [r.name, { mean: mean(samples), p50: percentile(samples, 0.5), p99: percentile(samples, 0.99) }]
  }))
  const bc = stats.get(endsRtt.bc)
  const ws = stats.get(endsRtt.ws)
  const e3 = endsRtt.e3 && stats.get(endsRtt.e3)
  const us = (ms) => `${(ms * 1000).toFixed(0)} µs`
  rttResult.notes = [
    `Latency, bytechannel Effect 4 ÷ ws both ends: mean ${x(bc.mean / ws.mean)} (goal ≤ 1.1× ${verdict(bc.mean / ws.mean <= 1.1)}), p50 ${x(bc.p50 / ws.p50)}, p99 ${x(bc.p99 / ws.p99)} (goal ≤ 1.3× ${verdict(bc.p99 / ws.p99 <= 1.3)}). Latencies pooled over every timed run; the ratio column compares round trips per second.`,
    e3
      ? `Latency, Effect 3 ÷ Effect 4 (bytechannel both ends; above 1: the port is faster): mean ${x(e3.mean / bc.mean)}, p50 ${x(e3.p50 / bc.p50)}, p99 ${x(e3.p99 / bc.p99)}.`
      : `Latency, Effect 3 ÷ Effect 4: ${effect3Skipped}.`,
    portNote(rttResult, endsRtt, ROUND_TRIPS / 1000, "1,000 round trips"),
    effectSocketNote,
    cpuNote(rttResult, ROUND_TRIPS / 1000, "1,000 round trips")
  ]
  const row = (name) => rttResult.rows.find((r) => r.name === name)
  const effect = stats.get(endsRtt.effect)
  const latencyVsWs = (s) => `mean ${x(s.mean / ws.mean)}, p99 ${x(s.p99 / ws.p99)}`
  rttResult.summary = [{
    key: "rtt",
    row: "round trip, 64 B",
    target: "mean ≤ 1.1× ws, p99 ≤ 1.3× ws",
    now: `${latencyVsWs(bc)}; ${cpuVs(row(endsRtt.bc), row(endsRtt.ws))}`,
    ok: bc.mean / ws.mean <= 1.1 && bc.p99 / ws.p99 <= 1.3,
    effect3: e3 ? `${latencyVsWs(e3)}; ${cpuVs(row(endsRtt.e3), row(endsRtt.ws))}` : "not run",
    effectSocket: `${latencyVsWs(effect)}; ${cpuVs(row(endsRtt.effect), row(endsRtt.ws))}`
  }]
  for (const r of rttResult.rows) {
    const s = stats.get(r.name)
    r.latency = s
    r.name = `${r.name} (p50 ${us(s.p50)}, p99 ${us(s.p99)}, mean ${us(s.mean)}; server peak +${mib(r.serverPeakMiB)})`
  }
}
emit(rttResult)

// Connection churn: many connections at once, each echoing 10 × 1 KiB (verified) and closed with the close handshake.
const endsMany = { bc: ROW.bc, ws: ROW.ws, e3: effect3Root && ROW.e3, effect: ROW.effect, net: ROW.net }
const manyRequest = (kind, port) => ({ op: "many", kind, port, connections: CONNECTIONS })
const [bcServerMany, wsServerMany, netServerMany, effectServerMany, e3ServerMany] = await startServers(["bytechannel", "ws", "net", "effect", ...(effect3Root ? ["bytechannel-e3"] : [])])
const manyResult = withServerPeak(await compare({
  scenario: `both ends, ${CONNECTIONS} concurrent connections, each echoing 10 × 1 KiB (verified), closed cleanly`,
  unit: "connections/s",
  baseline: endsMany.bc,
  runs: quick ? 2 : 3,
  contenders: [
    endsContender(endsMany.bc, driver, bcServerMany, manyRequest("bytechannel", bcServerMany.ready.port)),
    endsContender(endsMany.ws, driver, wsServerMany, manyRequest("ws", wsServerMany.ready.port)),
    ...(effect3Root ? [endsContender(endsMany.e3, driverE3, e3ServerMany, manyRequest("bytechannel", e3ServerMany.ready.port))] : []),
    endsContender(endsMany.effect, driver, effectServerMany, manyRequest("effect", effectServerMany.ready.port)),
    endsContender(endsMany.net, driver, netServerMany, manyRequest("net", netServerMany.ready.echoPort))
  ]
}))
for (const server of [bcServerMany, wsServerMany, netServerMany, effectServerMany, e3ServerMany]) server?.kill()
{
  const row = (name) => manyResult.rows.find((r) => r.name === name)
  const ws = row(endsMany.ws)
  const ratio = row(endsMany.bc).median / ws.median
  const e3 = endsMany.e3 && row(endsMany.e3)
  manyResult.summary = [{
    key: "churn",
    row: `connection churn: ${CONNECTIONS.toLocaleString("en")} clients at once, each 10 × 1 KiB echoed, then closed`,
    target: "≥ 0.9× ws connections/s",
    now: `${x(ratio)}; ${cpuVs(row(endsMany.bc), ws)}`,
    ok: ratio >= 0.9,
    effect3: e3 ? `${x(e3.median / ws.median)}; ${cpuVs(e3, ws)}` : "not run",
    effectSocket: `${x(row(endsMany.effect).median / ws.median)}; ${cpuVs(row(endsMany.effect), ws)}`
  }]
  manyResult.notes = [
    `bytechannel Effect 4 ÷ ws both ends: ${x(ratio)} (goal ≥ 0.9× ${verdict(ratio >= 0.9)}). All connections open at once; each closes with the close handshake (TCP: FIN both ways) before it counts. Every server listens with a backlog of 2048 (NodeServer's default).`,
    portNote(manyResult, endsMany, CONNECTIONS / 1000, "1,000 connections"),
    effectSocketNote,
    cpuNote(manyResult, CONNECTIONS / 1000, "1,000 connections")
  ]
  for (const r of manyResult.rows) r.name = `${r.name} (server peak +${mib(r.serverPeakMiB)})`
}
emit(manyResult)
for (const d of [driver, driverNoBu, driverE3]) d?.kill()

// Idle connections: IDLE connections open on one server process, each echoed once (64 B,
// verified), then held; memory per connection at the server and at the client (each in a fresh
// process, measured after full GCs: the processes run with --expose-gc), then every connection
// closed (close handshakes) and the heap measured again once the server counts none open, and
// once more LINGER seconds later (past bytechannel's 5 s close timeout: what a connection's
// timers still hold). The client opens at most 256 handshakes at a time (every kind alike).
// Each process holds a descriptor per connection: below the open-files limit (children inherit it).
const IDLE_TARGET = quick ? 500 : 10_000
const fileLimit = (() => {
  const soft = spawnSync("sh", ["-c", "ulimit -n"], { encoding: "utf8" }).stdout?.trim()
  return soft === "unlimited" ? Infinity : Number(soft) || Infinity
})()
const IDLE = Math.min(IDLE_TARGET, Math.floor((fileLimit - 256) / 100) * 100)
if (IDLE < IDLE_TARGET) console.error(`bench: node.mjs: idle connections: ${IDLE} instead of ${IDLE_TARGET} (ulimit -n is ${fileLimit})`)
const LINGER = 6
const IDLE_RUNS = quick ? 1 : 2
const idleRows = [
  { name: ROW.bc, kind: "bytechannel", server: "bytechannel", args: [] },
  { name: ROW.ws, kind: "ws", server: "ws", args: [] },
  ...(effect3Root ? [{ name: ROW.e3, kind: "bytechannel", server: "bytechannel-e3", args: effect3Args }] : []),
  { name: ROW.effect, kind: "effect", server: "effect", args: [] }
]
const idleSamples = new Map(idleRows.map((row) => [row.name, []]))
const untilServer = async (server, check, seconds) => {
  const deadline = Date.now() + seconds * 1000
  for (;;) {
    const stats = await server.call({ op: "stats" })
    if (check(stats.connections) || Date.now() > deadline) return stats.connections
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}
for (let i = 0; i < IDLE_RUNS; i++) {
  for (const row of idleRows) {
    const [server] = await startServers([row.server])
    const client = await forkChild("./ends-client.mjs", row.args, withBufferutil)
    try {
      await server.call({ op: "reset" })
      const opened = await client.call({ op: "idle", kind: row.kind, port: server.ready.port, connections: IDLE })
      const served = await untilServer(server, (n) => n >= IDLE, 60)
      const openCpu = (await server.call({ op: "stats" })).cpuMs
      const atServer = await server.call({ op: "memory" })
      const closed = await client.call({ op: "close" })
      const left = await untilServer(server, (n) => n === 0, 120)
      const afterServer = await server.call({ op: "memory" })
      await new Promise((resolve) => setTimeout(resolve, LINGER * 1000))
      const [laterServer, laterClient] = await Promise.all([server.call({ op: "memory" }), client.call({ op: "memory" })])
      const kib = (bytes) => bytes / IDLE / 1024
      idleSamples.get(row.name).push({
        served,
        left,
        openPerSecond: opened.units / opened.seconds,
        clientCpuMs: opened.cpuMs,
        serverCpuMs: openCpu,
        serverHeap: kib(atServer.heap - atServer.idleHeap),
        serverRss: kib(atServer.rss - atServer.idleRss),
        serverHeapAfter: (afterServer.heap - afterServer.idleHeap) / MiB,
        serverHeapLater: (laterServer.heap - laterServer.idleHeap) / MiB,
        serverHeapOpen: (atServer.heap - atServer.idleHeap) / MiB,
        clientHeap: kib(opened.memory.open.heap - opened.memory.before.heap),
        clientRss: kib(opened.memory.open.rss - opened.memory.before.rss),
        clientHeapAfter: (closed.memory.now.heap - opened.memory.before.heap) / MiB,
        clientHeapLater: (laterClient.memory.now.heap - opened.memory.before.heap) / MiB,
        clientHeapOpen: (opened.memory.open.heap - opened.memory.before.heap) / MiB
      })
    } finally {
      server.kill()
      client.kill()
    }
  }
}
{
  const pick = (name, key) => median(idleSamples.get(name).map((s) => s[key]))
  const kibText = (value) => `${value.toFixed(1)} KiB`
  const signedMib = (value) => `${value >= 0 ? "+" : ""}${value.toFixed(1)} MiB`
  const memoryResult = (side) => {
    const heapKey = `${side}Heap`
    const rows = idleRows.map(({ name }) => {
      const values = idleSamples.get(name).map((s) => s[heapKey])
      return { name, min: Math.min(...values), median: median(values), max: Math.max(...values), runs: values }
    })
    const floor = (value) => Math.max(value, 0.1) // a heap that hardly grew: 0.1 KiB per connection
    for (const row of rows) {
      row.ratio = floor(row.median) / floor(rows[0].median)
      row.rssPerConnectionKiB = pick(row.name, `${side}Rss`)
      row.heapAfterCloseMiB = pick(row.name, `${side}HeapAfter`)
      row.heapLaterMiB = pick(row.name, `${side}HeapLater`)
      row.heapOpenMiB = pick(row.name, `${side}HeapOpen`)
    }
    const by = (name) => rows.find((r) => r.name === name)
    const bc = by(ROW.bc)
    const ws = by(ROW.ws)
    const e3 = effect3Root && by(ROW.e3)
    const notes = [
      `Per connection, bytechannel Effect 4 ÷ ws: heap ${x(floor(bc.median) / floor(ws.median))}, RSS ${x(Math.max(bc.rssPerConnectionKiB, 0.1) / Math.max(ws.rssPerConnectionKiB, 0.1))}; ${
        e3
          ? `Effect 3 ÷ Effect 4 (above 1: the port holds less): heap ${x(floor(e3.median) / floor(bc.median))}, RSS ${x(Math.max(e3.rssPerConnectionKiB, 0.1) / Math.max(bc.rssPerConnectionKiB, 0.1))}`
          : effect3Skipped
      }.`,
      `After every connection closed, the ${side}'s heap over its baseline (${side === "server" ? "at idle, before any connection" : "before opening"}), after full GCs, at once and ${LINGER} s later: ${
        rows.map((r) => `${r.name.replace(/ both ends/, "")} ${signedMib(r.heapAfterCloseMiB)} and ${signedMib(r.heapLaterMiB)}, of ${signedMib(r.heapOpenMiB)} while open`).join("; ")
      }.`,
      `Lower is better; the ratio is row ÷ bytechannel Effect 4 (below 0.1 KiB counts as 0.1). ${IDLE.toLocaleString("en")} connections${IDLE < IDLE_TARGET ? ` (not ${IDLE_TARGET.toLocaleString("en")}: the open-files limit, ulimit -n, is ${fileLimit})` : ""}, median of ${IDLE_RUNS} run${IDLE_RUNS > 1 ? "s" : ""}, each in fresh processes; heap is V8's heapUsed, RSS the process's, both after full GCs (--expose-gc).`
    ]
    if (side === "server") {
      const stuck = idleRows.filter(({ name }) => idleSamples.get(name).some((s) => s.served < IDLE || s.left > 0))
      if (stuck.length > 0) notes.push(`Not every connection was counted open, or closed, in time: ${stuck.map(({ name }) => name).join(", ")}.`)
      notes.push(
        `Opening ${IDLE.toLocaleString("en")} (each echoed once): ${
          idleRows.map(({ name }) => `${name.replace(/ both ends/, "")} ${(pick(name, "openPerSecond")).toFixed(0)} connections/s, CPU per 1,000 client + server ${ms(pick(name, "clientCpuMs") / (IDLE / 1000))} + ${ms(pick(name, "serverCpuMs") / (IDLE / 1000))} ms`).join("; ")
        }.`,
        effectSocketNote
      )
    }
    for (const r of rows) r.name = `${r.name} (RSS ${kibText(r.rssPerConnectionKiB)} per connection; heap after close ${signedMib(r.heapAfterCloseMiB)}, ${LINGER} s later ${signedMib(r.heapLaterMiB)})`
    return {
      scenario: `both ends, idle connections: ${IDLE.toLocaleString("en")} open on one server, each echoed once — ${side} memory per connection`,
      unit: "KiB heap per connection",
      baseline: ROW.bc,
      higherIsBetter: false,
      rows,
      notes
    }
  }
  const serverResult = memoryResult("server")
  const clientResult = memoryResult("client")
  // The targets: per connection, RSS ≤ 1.5× ws's and heap ≤ 8 KiB, at each end; once every
  // connection closed, the heap back within 2 MiB of its baseline (judged at once, after the
  // server counts none open and full GCs; the figure LINGER s later is given beside it).
  const ends = (name) => {
    const at = (result) => result.rows.find((r) => r.name.startsWith(`${name} (`))
    return { server: at(serverResult), client: at(clientResult) }
  }
  const ws = ends(ROW.ws)
  const judge = (name) => {
    const row = ends(name)
    const rss = (side) => Math.max(row[side].rssPerConnectionKiB, 0.1) / Math.max(ws[side].rssPerConnectionKiB, 0.1)
    const ok = ["server", "client"].every((side) => rss(side) <= 1.5 && row[side].median <= 8 && row[side].heapAfterCloseMiB <= 2)
    const cpu = (pickName) => pick(pickName, "clientCpuMs") + pick(pickName, "serverCpuMs")
    const text = ["server", "client"].map((side) =>
      `${side}: RSS ${x(rss(side))} ws, heap ${row[side].median.toFixed(1)} KiB (ws ${ws[side].median.toFixed(1)}), after close ${signedMib(row[side].heapAfterCloseMiB)} (${LINGER} s later ${signedMib(row[side].heapLaterMiB)})`
    ).join("; ")
    return { ok, text: `${text}; opening: CPU ${x(cpu(name) / cpu(ROW.ws))} ws` }
  }
  const bc = judge(ROW.bc)
  serverResult.summary = [{
    key: "idle",
    row: `idle connections: ${IDLE.toLocaleString("en")} open on one server process, each echoed once`,
    target: "per connection, server and client: RSS ≤ 1.5× ws, heap ≤ 8 KiB; after they close, heap within 2 MiB of its baseline",
    now: bc.text,
    ok: bc.ok,
    effect3: effect3Root ? judge(ROW.e3).text : "not run",
    effectSocket: judge(ROW.effect).text
  }]
  emit(serverResult)
  emit(clientResult)
}

process.exit(0)

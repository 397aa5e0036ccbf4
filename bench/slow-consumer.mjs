// Slow consumer: the server offers 160 MiB at once; each receiver (its own process) reads
// 1 MiB/s for a few seconds. Reported: the receiver's RSS growth and what the sender holds.
import { spawn } from "node:child_process"
import { once } from "node:events"
import { emit, forkChild, MiB, quick } from "./lib.mjs"

const SECONDS = quick ? 2 : 4
const server = spawn(process.execPath, [new URL("./server.mjs", import.meta.url).pathname, "0"], { stdio: ["ignore", "pipe", "inherit"] })
const ports = JSON.parse((await once(server.stdout.setEncoding("utf8"), "data"))[0])
process.on("exit", () => server.kill("SIGKILL"))

const kinds = ["bytechannel", "ws createWebSocketStream", "websocket-stream", "raw ws (message events)"]
const rows = []
for (const [index, kind] of kinds.entries()) {
  const id = `c${index}`
  const receiver = spawn(process.execPath, ["--expose-gc", new URL("./slow-receiver.mjs", import.meta.url).pathname, kind, `ws://127.0.0.1:${ports.ws}/flood?mb=160&id=${id}`, String(SECONDS), String(MiB)], { stdio: ["ignore", "pipe", "inherit"] })
  const [line] = await once(receiver.stdout.setEncoding("utf8"), "data")
  const { growth } = JSON.parse(line)
  const stats = await fetch(`http://127.0.0.1:${ports.ws}/stats?id=${id}`).then((r) => r.json())
  receiver.kill("SIGKILL")
  rows.push({ name: kind, median: growth / MiB, min: growth / MiB, max: growth / MiB, runs: [growth / MiB], senderBuffered: stats.bufferedAmount / MiB })
}
const base = rows[0].median
for (const row of rows) {
  // Growth below 1 MiB is noise: floor it there so the ratio stays meaningful.
  row.ratio = Math.max(row.median, 1) / Math.max(base, 1)
  row.name = `${row.name} (sender holds ${row.senderBuffered.toFixed(0)} MiB)`
}
emit({
  scenario: `slow consumer: 160 MiB offered, receiver reads 1 MiB/s for ${SECONDS} s`,
  unit: "MiB receiver RSS growth",
  baseline: "bytechannel",
  higherIsBetter: false,
  rows,
  notes: ["Lower is better; the ratio is row ÷ bytechannel. What the receiver does not hold, the sender holds (in parentheses)."]
})
server.kill("SIGKILL")

// Both ends: the server writes 64 KiB messages as fast as the connection's backpressure allows
// (NodeServer: Stream.run into channel.write; ws: sends while bufferedAmount is under 1 MiB, on
// from each send's callback; Effect 4's socket: its writer never waits, so its loop runs to a cap
// of FIREHOSE_CAP), each in a fresh server process (bench/ends-server.mjs); the same slow
// receiver reads 1 MiB/s, then stops reading. Reported: the receiver's RSS growth, the server's
// (peak over idle), what the server wrote in the second after the receiver stopped
// (backpressure works when that is about nothing), and the CPU time of both ends. The last
// Effect 3 commit's bytechannel at both ends too when BENCH_EFFECT3_ROOT names a built checkout.
const FIREHOSE_CAP_MIB = quick ? 64 : 256
const effect3Root = process.env.BENCH_EFFECT3_ROOT || undefined
const effect3Args = effect3Root ? ["--root", effect3Root] : []
const ENDS = { bc: "bytechannel both ends", ws: "ws both ends (createWebSocketStream reader)", effect: "Effect 4 socket both ends", e3: "bytechannel Effect 3 both ends" }
const endsKinds = [
  { name: ENDS.bc, server: ["bytechannel"], receiver: ["bytechannel"] },
  { name: ENDS.ws, server: ["ws"], receiver: ["ws createWebSocketStream"] },
  { name: ENDS.effect, server: ["effect"], receiver: ["Effect 4 socket"], query: `?cap=${FIREHOSE_CAP_MIB}` },
  ...(effect3Root ? [{ name: ENDS.e3, server: ["bytechannel", ...effect3Args], receiver: ["bytechannel", ...effect3Args] }] : [])
]
const endsRows = []
for (const kind of endsKinds) {
  const server = await forkChild("./ends-server.mjs", kind.server)
  await server.call({ op: "reset" })
  const [receiverKind, ...receiverArgs] = kind.receiver
  const receiver = spawn(process.execPath, ["--expose-gc", new URL("./slow-receiver.mjs", import.meta.url).pathname, receiverKind, `ws://127.0.0.1:${server.ready.port}/firehose${kind.query ?? ""}`, String(SECONDS), String(MiB), ...receiverArgs], { stdio: ["ignore", "pipe", "inherit"] })
  const [line] = await once(receiver.stdout.setEncoding("utf8"), "data")
  const { growth, read, cpuMs } = JSON.parse(line)
  const atStop = await server.call({ op: "stats" })
  await new Promise((resolve) => setTimeout(resolve, 1000))
  const after = await server.call({ op: "stats" })
  if (after.connections !== 1) throw new Error(`${kind.name}: the connection closed while the reader was stopped; backpressure cannot be judged`)
  receiver.kill("SIGKILL")
  server.kill()
  endsRows.push({
    name: kind.name,
    median: growth / MiB,
    min: growth / MiB,
    max: growth / MiB,
    runs: [growth / MiB],
    serverPeakMiB: (after.peak - after.idle) / MiB,
    sentMiB: after.sent / MiB,
    readMiB: read / MiB,
    sentAfterStopKiB: (after.sent - atStop.sent) / 1024,
    serverBufferedMiB: after.bufferedAmount === null ? null : after.bufferedAmount / MiB,
    clientCpuMs: cpuMs,
    serverCpuMs: after.cpuMs
  })
}
const endsRow = (name) => endsRows.find((r) => r.name === name)
const bc = endsRow(ENDS.bc)
const wsRow = endsRow(ENDS.ws)
const effectRow = endsRow(ENDS.effect)
const e3Row = endsRow(ENDS.e3)
const stopped = (row) => row.median <= 16 && row.sentAfterStopKiB <= 1024
const slowText = (row) =>
  `receiver +${row.median.toFixed(1)} MiB (${(Math.max(row.median, 1) / Math.max(wsRow.median, 1)).toFixed(2)}× ws), server wrote ${row.sentMiB.toFixed(1)} MiB for ${row.readMiB.toFixed(1)} MiB read, ${row.sentAfterStopKiB.toFixed(0)} KiB after the reader stopped, server peak +${row.serverPeakMiB.toFixed(1)} MiB`
const summary = [{
  key: "slow",
  row: "slow consumer (server firehose, client reads 1 MiB/s)",
  target: "client RSS growth ≤ 16 MiB; the server stops writing",
  now: slowText(bc),
  ok: stopped(bc),
  effect3: e3Row ? slowText(e3Row) : "not run",
  effectSocket: `${slowText(effectRow)}${effectRow.sentMiB >= FIREHOSE_CAP_MIB ? ` (its loop stopped only at the cap, ${FIREHOSE_CAP_MIB} MiB: no write backpressure)` : ""}`
}]
for (const row of endsRows) {
  row.ratio = Math.max(row.median, 1) / Math.max(bc.median, 1)
  const buffered = row.serverBufferedMiB === null ? "" : `, ws buffers ${row.serverBufferedMiB.toFixed(1)} MiB`
  row.name = `${row.name} (server peak ${row.serverPeakMiB >= 0 ? "+" : ""}${row.serverPeakMiB.toFixed(1)} MiB; it wrote ${row.sentMiB.toFixed(1)} MiB, ${row.sentAfterStopKiB.toFixed(0)} KiB after the reader stopped; read ${row.readMiB.toFixed(1)} MiB${buffered})`
}
emit({
  scenario: `both ends, slow consumer: the server writes as fast as backpressure allows, the receiver reads 1 MiB/s for ${SECONDS} s`,
  unit: "MiB receiver RSS growth",
  baseline: ENDS.bc,
  higherIsBetter: false,
  rows: endsRows,
  summary,
  notes: [
    `Lower is better; the ratio is row ÷ bytechannel (growth under 1 MiB counts as 1). What was written and not read (${(bc.sentMiB - bc.readMiB).toFixed(1)} MiB for bytechannel) sits in the socket buffers of both kernels, the server's send buffer and the receiver's bounded queue.`,
    `Goal: receiver RSS growth ≤ 16 MiB with the server stopped: ${bc.median.toFixed(1)} MiB, the server wrote ${bc.sentAfterStopKiB.toFixed(0)} KiB in the second after the reader stopped ${stopped(bc) ? "✓" : "✗"}.`,
    `Effect 4 socket: @effect/platform-node's NodeSocketServer.makeWebSocket writing fresh 64 KiB copies in a loop (its writer answers at once; the loop stops at ${FIREHOSE_CAP_MIB} MiB), read by Socket.makeWebSocket on Node's WebSocket (no read backpressure): what the reader does not read sits in the server's memory and the reader's.`,
    `CPU time (user + system) of the whole run, receiver + server: ${endsRows.map((r) => `${r.name.replace(/ \(.*$/, "")} ${r.clientCpuMs.toFixed(0)} + ${r.serverCpuMs.toFixed(0)} ms`).join("; ")}.`,
    effect3Root ? "Effect 3: the last Effect 3 commit's bytechannel at both ends (the same scripts with --root)." : "No Effect 3 row: BENCH_EFFECT3_ROOT is not set (the full `pnpm bench` sets it)."
  ]
})
process.exit(0)

// Fan-out through the Hub, both ends: one server process runs the Hub program (each connection
// subscribes to one topic, says so with one byte, gets every message any connection publishes
// there; 1,024 messages held per subscriber, a publisher never waits), CLIENTS clients in a
// driver process of their own (bench/ends-client.mjs) connect and subscribe, then PUBLISHERS of
// them publish MESSAGES × 128 B in turn; timed from the first publish to the last delivery.
// Contenders, interleaved, each server in a process of its own (bench/ends-server.mjs, /hub):
//   bytechannel both ends   NodeServer + Hub.make(), NodeConnector clients
//   ws both ends            the same program on ws (a set of subscribers; a subscriber with 1,024
//                           sends not yet handed to its socket misses the next), ws clients
//   NodeServer + Hub, ws clients  (the server's share)
//   Effect 4 socket both ends  NodeSocketServer + effect PubSub.sliding(1024), Socket.makeWebSocket clients
//   bytechannel Effect 3 both ends  when BENCH_EFFECT3_ROOT names a built checkout of the last Effect 3 commit
// CPU (user + system) of both ends is that of the broadcast phase: the client's during its run,
// the server's since a reset once every client was subscribed.
import { compare, cpuVs, emit, forkChild, median, MiB, quick, times } from "./lib.mjs"

const CLIENTS = quick ? 200 : 1_000
const MESSAGES = 100
const PUBLISHERS = 10
const effect3Root = process.env.BENCH_EFFECT3_ROOT || undefined
const effect3Args = effect3Root ? ["--root", effect3Root] : []

const ROW = {
  bc: "bytechannel both ends (NodeServer + Hub)",
  ws: "ws both ends (the same program on ws)",
  bcWsClients: "NodeServer + Hub, ws clients",
  effect: "Effect 4 socket both ends (PubSub)",
  e3: "bytechannel Effect 3 both ends (NodeServer + Hub)"
}
const kinds = [
  { name: ROW.bc, server: ["bytechannel"], client: "bytechannel", driver: "default" },
  { name: ROW.ws, server: ["ws"], client: "ws", driver: "default" },
  { name: ROW.bcWsClients, server: ["bytechannel"], client: "ws", driver: "default" },
  { name: ROW.effect, server: ["effect"], client: "effect", driver: "default" },
  ...(effect3Root ? [{ name: ROW.e3, server: ["bytechannel", ...effect3Args], client: "bytechannel", driver: "e3" }] : [])
]
const drivers = {
  default: await forkChild("./ends-client.mjs", []),
  ...(effect3Root ? { e3: await forkChild("./ends-client.mjs", effect3Args) } : {})
}
const servers = await Promise.all(kinds.map((k) => forkChild("./ends-server.mjs", k.server)))

const cpu = new Map(kinds.map((k) => [k.name, []]))
const peaks = new Map(kinds.map((k) => [k.name, []]))
const contenders = kinds.map((kind, i) => ({
  name: kind.name,
  run: async ({ warmup }) => {
    const server = servers[i]
    const driver = drivers[kind.driver]
    await server.call({ op: "reset" })
    await driver.call({ op: "fanout-open", kind: kind.client, port: server.ready.port, connections: CLIENTS })
    await server.call({ op: "reset" })
    const done = await driver.call({ op: "fanout-run", messages: MESSAGES, publishers: PUBLISHERS })
    const stats = await server.call({ op: "stats" })
    await driver.call({ op: "close" })
    if (!warmup) {
      cpu.get(kind.name).push({ client: done.cpuMs, server: stats.cpuMs })
      peaks.get(kind.name).push((stats.peak - stats.idle) / MiB)
    }
    return { units: done.units, seconds: done.seconds }
  }
}))
const result = await compare({
  scenario: `fan-out through the Hub, both ends: ${MESSAGES} × 128 B from ${PUBLISHERS} publishers to ${CLIENTS.toLocaleString("en")} subscribers`,
  unit: "deliveries/s",
  baseline: ROW.bc,
  runs: quick ? 2 : 3,
  contenders
})
for (const d of Object.values(drivers)) d.kill()
for (const s of servers) s.kill()

const per = (CLIENTS * MESSAGES) / 1000 // CPU per 1,000 deliveries
for (const row of result.rows) {
  row.clientCpuMs = median(cpu.get(row.name).map((c) => c.client)) / per
  row.serverCpuMs = median(cpu.get(row.name).map((c) => c.server)) / per
  row.serverPeakMiB = median(peaks.get(row.name))
}
const row = (name) => result.rows.find((r) => r.name === name)
const bc = row(ROW.bc)
const ws = row(ROW.ws)
const effect = row(ROW.effect)
const e3 = row(ROW.e3)
const ratio = bc.median / ws.median
result.summary = [{
  key: "fanout",
  row: `fan-out through the Hub: ${MESSAGES} × 128 B to ${CLIENTS.toLocaleString("en")} subscribers`,
  target: "≥ 0.9× the same program on ws",
  now: `${times(ratio)}; ${cpuVs(bc, ws)}; NodeServer with ws clients ${times(row(ROW.bcWsClients).median / ws.median)}`,
  ok: ratio >= 0.9,
  effect3: e3 ? `${times(e3.median / ws.median)}; ${cpuVs(e3, ws)}` : "not run",
  effectSocket: `${times(effect.median / ws.median)}; ${cpuVs(effect, ws)}`
}]
result.notes = [
  `bytechannel ÷ the same program on ws, both ends: ${times(ratio)} (goal ≥ 0.9× ${ratio >= 0.9 ? "✓" : "✗"}). Timed from the first publish to the last delivery; every client is connected and subscribed before.`,
  `CPU time (user + system) per 1,000 deliveries during the broadcast, client + server, median of the runs: ${result.rows.map((r) => `${r.name} ${r.clientCpuMs.toFixed(1)} + ${r.serverCpuMs.toFixed(1)} ms`).join("; ")}.`,
  `Server peak RSS over idle (median): ${result.rows.map((r) => `${r.name} +${r.serverPeakMiB.toFixed(1)} MiB`).join("; ")}.`,
  "Every server holds at most 1,024 messages per subscriber and never makes a publisher wait: the Hub drops a subscriber's oldest, effect's sliding PubSub the oldest of all, the ws program the newest for that subscriber (ws cannot unqueue a message). No run here drops any: every client must get every byte.",
  effect3Root ? "Effect 3: the last Effect 3 commit's bytechannel at both ends (the same scripts with --root)." : "No Effect 3 row: BENCH_EFFECT3_ROOT is not set (the full `pnpm bench` sets it)."
]
emit(result)
process.exit(0)

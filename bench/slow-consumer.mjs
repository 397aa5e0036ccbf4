// Slow consumer: the server offers 160 MiB at once; each receiver (its own process) reads
// 1 MiB/s for a few seconds. Reported: the receiver's RSS growth and what the sender holds.
import { spawn } from "node:child_process"
import { once } from "node:events"
import { emit, quick } from "./lib.mjs"

const MiB = 1024 * 1024
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
process.exit(0)

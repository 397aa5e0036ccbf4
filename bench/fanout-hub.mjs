// Fan-out across processes: 1,000 loopback clients spread over three server processes sharing a
// Redis (RedisHub), against the same clients on one process (the in-process Hub). Ten clients
// publish 100 messages of 128 B in all; every client gets every message. Deliveries per second
// (first send to last delivery) and the 99th percentile of send-to-delivery latency.
import { spawn } from "node:child_process"
import { once } from "node:events"
import * as Net from "node:net"
import { tmpdir } from "node:os"
import { performance } from "node:perf_hooks"
import { WebSocket } from "ws"
import { emit, quick } from "./lib.mjs"

const CLIENTS = quick ? 200 : 1_000
const MESSAGES = 100
const PUBLISHERS = 10
const RUNS = quick ? 2 : 3

const freePort = () =>
  new Promise((resolve, reject) => {
    const server = Net.createServer().once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })

/** A child whose stdout JSON lines are read in order. */
const child = (command, args) => {
  const proc = spawn(command, args, { stdio: ["ignore", "pipe", "inherit"] })
  const lines = []
  let wake
  let buffered = ""
  proc.stdout.setEncoding("utf8").on("data", (text) => {
    buffered += text
    for (let nl = buffered.indexOf("\n"); nl !== -1; nl = buffered.indexOf("\n")) {
      lines.push(buffered.slice(0, nl))
      buffered = buffered.slice(nl + 1)
    }
    wake?.()
  })
  proc.on("exit", () => wake?.())
  const until = async (check, what) => {
    const deadline = Date.now() + 30_000
    while (!lines.some(check)) {
      if (proc.exitCode !== null || Date.now() > deadline) throw new Error(`bench: no ${what} from ${args.join(" ")}`)
      await new Promise((resolve) => {
        wake = resolve
        setTimeout(resolve, 1000)
      })
    }
    return lines.find(check)
  }
  const stop = async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill("SIGKILL")
      await once(proc, "exit")
    }
  }
  return { until, stop }
}

const redisServer = async () => {
  const port = await freePort()
  const redis = child("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", tmpdir()])
  await redis.until((line) => line.includes("Ready to accept connections"), "ready line")
  return { url: `redis://127.0.0.1:${port}`, stop: redis.stop }
}

const run = (processes, redisUrl) => async () => {
  const servers = Array.from({ length: processes }, () =>
    child(process.execPath, [new URL("./fanout-hub-server.mjs", import.meta.url).pathname, processes === 1 ? "local" : "redis", redisUrl ?? ""]))
  try {
    const ports = []
    for (const server of servers) {
      ports.push(JSON.parse(await server.until((line) => line.includes('"port"'), "port")).port)
      if (processes > 1) await server.until((line) => line.includes('"redis"'), "redis connection")
    }
    const latencies = new Float64Array(CLIENTS * MESSAGES)
    let delivered = 0
    let done
    const allReceived = new Promise((resolve) => (done = resolve))
    const sockets = await Promise.all(Array.from({ length: CLIENTS }, async (_, i) => {
      const ws = new WebSocket(`ws://127.0.0.1:${ports[i % ports.length]}/`, { perMessageDeflate: false })
      let ready
      const subscribed = new Promise((resolve) => (ready = resolve))
      ws.on("message", (data) => {
        if (data.length === 1) return ready() // the server subscribed this client
        // A byte stream: one WebSocket message may carry several 128 B records.
        const now = performance.now()
        for (let at = 0; at + 128 <= data.length; at += 128) latencies[delivered++] = now - data.readDoubleLE(at)
        if (delivered === CLIENTS * MESSAGES) done()
      })
      await once(ws, "open")
      await subscribed
      return ws
    }))
    const start = performance.now()
    for (let m = 0; m < MESSAGES; m++) {
      const message = Buffer.alloc(128, 7)
      message.writeDoubleLE(performance.now(), 0)
      sockets[(m % PUBLISHERS) * Math.floor(CLIENTS / PUBLISHERS)].send(message)
    }
    await allReceived
    const elapsed = (performance.now() - start) / 1000
    for (const ws of sockets) ws.terminate()
    latencies.sort()
    return { rate: (CLIENTS * MESSAGES) / elapsed, p99: latencies[Math.floor(latencies.length * 0.99)] }
  } finally {
    await Promise.all(servers.map((server) => server.stop()))
  }
}

const redis = await redisServer()
try {
  const modes = [
    [`one process, in-process Hub`, run(1)],
    [`three processes, RedisHub on one Redis`, run(3, redis.url)]
  ]
  const samples = new Map(modes.map(([name]) => [name, []]))
  for (const [, go] of modes) await go() // warm-up
  for (let i = 0; i < RUNS; i++) for (const [name, go] of modes) samples.get(name).push(await go())
  const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1]
  const rows = (pick) =>
    modes.map(([name]) => {
      const values = samples.get(name).map(pick)
      return { name, min: Math.min(...values), median: median(values), max: Math.max(...values), runs: values }
    })
  const throughput = rows((s) => s.rate)
  for (const row of throughput) row.ratio = throughput[0].median / row.median
  const latency = rows((s) => s.p99)
  for (const row of latency) row.ratio = row.median / latency[0].median
  const notes = [
    `${PUBLISHERS} publishing clients spread over the processes; each message also goes to its own process's clients without Redis. Client, servers and redis-server share the machine's cores.`
  ]
  emit({
    scenario: `fan-out across processes: ${MESSAGES} × 128 B to ${CLIENTS.toLocaleString("en")} clients`,
    unit: "deliveries/s",
    baseline: modes[0][0],
    higherIsBetter: true,
    rows: throughput,
    notes
  })
  emit({
    scenario: `fan-out across processes: p99 send-to-delivery latency, ${MESSAGES} × 128 B burst to ${CLIENTS.toLocaleString("en")} clients`,
    unit: "ms",
    baseline: modes[0][0],
    higherIsBetter: false,
    rows: latency,
    notes
  })
} finally {
  await redis.stop()
}
process.exit(0)

// Bun and Deno servers (issue #24): bytechannel's BunServer against a raw `Bun.serve` WebSocket
// server, and DenoServer against raw `Deno.serve` + `Deno.upgradeWebSocket`, each server in its
// own process of that runtime (bench/runtime-server.mjs), the same Node client for both (a plain
// ws client from bench/ends-client.mjs, bufferutil on): sequential 64 B round trips, bulk in
// 64 KiB messages, and connection churn; contenders interleaved. CPU of both ends: the client's
// (its own figure) and the server's (its stats port). A runtime that cannot be started is
// skipped with the reason printed, and said in the summary.
import { spawn, spawnSync } from "node:child_process"
import { existsSync } from "node:fs"
import { once } from "node:events"
import { compare, cpuVs, emit, forkChild, mean, median, MiB, percentile, quick, times, workspaceRoot } from "./lib.mjs"

const ROUND_TRIPS = quick ? 2_000 : 20_000
const BULK = (quick ? 16 : 256) * MiB
const CONNECTIONS = quick ? 200 : 1_000
const bin = (name) => `${workspaceRoot}/node_modules/.bin/${name}`
const runtimes = [
  {
    key: "bun",
    title: "Bun",
    server: "BunServer",
    raw: "raw Bun.serve websocket",
    // node_modules/.bin/bun (a root devDependency) or the npm registry's bun@1.4.5 through npx.
    command: existsSync(bin("bun")) ? [bin("bun")] : ["npx", "-y", "bun@1.4.5"],
    args: (file, kind) => [file, kind],
    built: existsSync(`${workspaceRoot}/packages/bun/dist/index.js`)
  },
  {
    key: "deno",
    title: "Deno",
    server: "DenoServer",
    raw: "raw Deno.serve + Deno.upgradeWebSocket",
    command: existsSync(bin("deno")) ? [bin("deno")] : ["npx", "-y", "deno@2.9.6"],
    args: (file, kind) => ["run", "-A", file, kind],
    built: existsSync(`${workspaceRoot}/packages/deno/dist/index.js`)
  }
]

// Each server runs in a process group of its own (the runtime may sit behind a wrapper script or
// npx): killing the group ends the runtime too.
const servers = new Set()
const killGroup = (child) => {
  servers.delete(child)
  try {
    process.kill(-child.pid, "SIGKILL")
  } catch {
    // already gone
  }
}
process.on("exit", () => {
  for (const child of servers) killGroup(child)
})
/** Starts bench/runtime-server.mjs under `runtime`; resolves to its ports, or rejects with why not. */
const startServer = async (runtime, kind) => {
  const [command, ...prefix] = runtime.command
  const child = spawn(command, [...prefix, ...runtime.args(new URL("./runtime-server.mjs", import.meta.url).pathname, kind)], {
    cwd: new URL(".", import.meta.url).pathname,
    stdio: ["ignore", "pipe", "inherit"],
    detached: true
  })
  servers.add(child)
  const exited = once(child, "exit").then(([code, signal]) => {
    throw new Error(`${command} exited (${signal ?? code}) before listening`)
  })
  const line = once(child.stdout.setEncoding("utf8"), "data").then(([text]) => JSON.parse(text.split("\n")[0]))
  const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error(`${command}: no port within 120 s`)), 120_000).unref())
  const ready = await Promise.race([line, exited, timeout])
  exited.catch(() => {})
  const cpu = () => fetch(`http://127.0.0.1:${ready.statsPort}/`).then((r) => r.json()).then((r) => r.cpuMs)
  return { ...ready, cpu, kill: () => killGroup(child) }
}

/** `promise`, or a rejection once RUN_TIMEOUT passed (a stuck server fails its runtime's rows, never the run). */
const RUN_TIMEOUT = 180_000
const withTimeout = (promise, what) =>
  Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(`${what}: no answer within ${RUN_TIMEOUT / 1000} s`)), RUN_TIMEOUT).unref())])

// `node runtimes.mjs [--quick] [bun|deno]`: only the runtimes named, when any are.
const only = process.argv.slice(2).filter((a) => !a.startsWith("--"))
let driver = await forkChild("./ends-client.mjs", [])
for (const runtime of runtimes.filter((r) => only.length === 0 || only.includes(r.key))) {
  let bc, raw
  try {
    if (!runtime.built) throw new Error(`packages/${runtime.key}/dist is not built`)
    const version = spawnSync(runtime.command[0], [...runtime.command.slice(1), "--version"], { encoding: "utf8", timeout: 300_000 })
    if (version.status !== 0) throw new Error(`${runtime.command.join(" ")} --version failed: ${(version.error?.message ?? version.stderr ?? "").trim().split("\n")[0]}`)
    ;[bc, raw] = await Promise.all([startServer(runtime, "bytechannel"), startServer(runtime, "raw")])
  } catch (error) {
    const reason = String(error?.message ?? error)
    console.error(`bench: runtimes.mjs: the ${runtime.title} rows are skipped: ${reason}`)
    emit({
      scenario: `${runtime.title} server: skipped`,
      unit: "—",
      baseline: runtime.server,
      rows: [],
      notes: [`Skipped: ${reason}.`],
      summary: [{ key: runtime.key, row: `${runtime.title} server (${runtime.server} ÷ ${runtime.raw})`, target: "no target set (issue #24: rows)", now: `skipped: ${reason}`, ok: null, effect3: "—", effectSocket: "—" }]
    })
    bc?.kill()
    raw?.kill()
    continue
  }
  try {
    await measure(runtime, bc, raw)
  } catch (error) {
    // A failed or stuck run: said in the output and the summary; the driver starts over.
    const reason = String(error?.message ?? error)
    console.error(`bench: runtimes.mjs: the ${runtime.title} rows failed: ${reason}`)
    emit({
      scenario: `${runtime.title} server: failed`,
      unit: "—",
      baseline: runtime.server,
      rows: [],
      notes: [`Failed: ${reason}.`],
      summary: [{ key: runtime.key, row: `${runtime.title} server (${runtime.server} ÷ ${runtime.raw})`, target: "no target set (issue #24: rows)", now: `failed: ${reason}`, ok: null, effect3: "—", effectSocket: "—" }]
    })
    driver.kill()
    driver = await forkChild("./ends-client.mjs", [])
  }
  bc.kill()
  raw.kill()
}
driver.kill()
process.exit(0)

async function measure(runtime, bc, raw) {
  const names = { bc: `${runtime.server} (${bc.runtime})`, raw: `${runtime.raw} (${raw.runtime})` }
  console.error(`bench: runtimes.mjs: ${names.bc} and ${names.raw}, ws clients on Node ${process.version}`)
  const runs = new Map()
  const contender = (name, server, request) => {
    runs.set(name, [])
    return {
      name,
      run: async ({ warmup }) => {
        if (process.env.BENCH_TRACE) console.error(`trace: ${name} ${request.op}`)
        const before = await server.cpu()
        const done = await withTimeout(driver.call({ ...request, port: server.port }), `${name} ${request.op}`)
        const serverCpuMs = (await server.cpu()) - before
        if (!warmup) runs.get(name).push({ done, serverCpuMs })
        return done
      }
    }
  }
  const withCpu = (result) => {
    for (const row of result.rows) {
      row.clientCpuMs = median(runs.get(row.name).map((r) => r.done.cpuMs))
      row.serverCpuMs = median(runs.get(row.name).map((r) => r.serverCpuMs))
    }
    return result
  }
  const pair = (request) => [contender(names.bc, bc, request), contender(names.raw, raw, request)]
  const cpuNote = (result, per, unit) =>
    `CPU time (user + system) per ${unit}, client + server, median of the runs: ${result.rows.map((r) => `${r.name} ${(r.clientCpuMs / per).toFixed(1)} + ${(r.serverCpuMs / per).toFixed(1)} ms`).join("; ")}.`
  const clientNote = `The same Node client for both servers: a ws client (bufferutil) in bench/ends-client.mjs; each server in a ${runtime.title} process of its own (bench/runtime-server.mjs).`

  const rtt = withCpu(await compare({
    scenario: `${runtime.title} server, round trip: ${ROUND_TRIPS} sequential 64 B echoes`,
    unit: "round trips/s",
    baseline: names.bc,
    contenders: pair({ op: "rtt", kind: "ws", count: ROUND_TRIPS })
  }))
  const latency = (name) => {
    const samples = runs.get(name).flatMap((r) => r.done.latencies)
    return { mean: mean(samples), p99: percentile(samples, 0.99) }
  }
  const [lb, lr] = [latency(names.bc), latency(names.raw)]
  const row = (result, name) => result.rows.find((r) => r.name === name)
  rtt.notes = [
    `Latency, ${runtime.server} ÷ ${runtime.raw}: mean ${times(lb.mean / lr.mean)}, p99 ${times(lb.p99 / lr.p99)} (pooled over every timed run).`,
    cpuNote(rtt, ROUND_TRIPS / 1000, "1,000 round trips"),
    clientNote
  ]
  emit(rtt)

  const bulk = withCpu(await compare({
    scenario: `${runtime.title} server, bulk: ${BULK / MiB} MiB as 64 KiB binary messages, client to server`,
    unit: "bytes/s",
    baseline: names.bc,
    contenders: pair({ op: "bulk", kind: "ws", total: BULK })
  }))
  bulk.notes = [cpuNote(bulk, BULK / MiB, "MiB"), clientNote]
  emit(bulk)

  const churn = withCpu(await compare({
    scenario: `${runtime.title} server, ${CONNECTIONS} concurrent connections, each echoing 10 × 1 KiB (verified), closed cleanly`,
    unit: "connections/s",
    baseline: names.bc,
    runs: quick ? 2 : 3,
    contenders: pair({ op: "many", kind: "ws", connections: CONNECTIONS })
  }))
  churn.notes = [cpuNote(churn, CONNECTIONS / 1000, "1,000 connections"), clientNote]

  const vs = (result) => row(result, names.bc).median / row(result, names.raw).median
  churn.summary = [{
    key: runtime.key,
    row: `${runtime.title} server: ${runtime.server} ÷ ${runtime.raw} (the same Node ws client)`,
    target: "no target set (issue #24: rows)",
    now: `round-trip latency mean ${times(lb.mean / lr.mean)}, p99 ${times(lb.p99 / lr.p99)} (${cpuVs(row(rtt, names.bc), row(rtt, names.raw), "raw")}); bulk ${times(vs(bulk))} (${cpuVs(row(bulk, names.bc), row(bulk, names.raw), "raw")}); churn ${times(vs(churn))} (${cpuVs(row(churn, names.bc), row(churn, names.raw), "raw")})`,
    ok: null,
    effect3: "— (no Bun or Deno server at Effect 3)",
    effectSocket: "— (effect/socket has no server of its own on this runtime here)"
  }]
  emit(churn)
}

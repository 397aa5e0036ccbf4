// Shared bits of the benchmark scripts: interleaved runs (A B C, A B C, ...) so machine drift
// hits every contender alike, min/median/max per contender, ratios to bytechannel.
import { fork } from "node:child_process"
import { readFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname, join } from "node:path"
import { performance } from "node:perf_hooks"
import { fileURLToPath, pathToFileURL } from "node:url"

export const quick = process.argv.includes("--quick")

export const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/**
 * Runs every contender `runs` times, interleaved, after one warm-up each.
 * `contenders`: [{ name, run: async ({ warmup }) => units }] where `units` is the amount of work
 * done (bytes or messages); the figure kept is units per second. A contender that times itself
 * (work done in a child process) returns `{ units, seconds }` instead.
 */
export const compare = async ({ scenario, unit, baseline, runs = quick ? 3 : 5, contenders, notes = [] }) => {
  for (const c of contenders) await c.run({ warmup: true }) // warm-up: JIT, caches, lazy allocations
  const samples = new Map(contenders.map((c) => [c.name, []]))
  for (let i = 0; i < runs; i++) {
    for (const c of contenders) {
      globalThis.gc?.()
      const start = performance.now()
      const done = await c.run({ warmup: false })
      const elapsed = (performance.now() - start) / 1000
      const { units, seconds } = typeof done === "number" ? { units: done, seconds: elapsed } : done
      samples.get(c.name).push(units / seconds)
    }
  }
  const rows = contenders.map((c) => {
    const values = samples.get(c.name)
    return { name: c.name, min: Math.min(...values), median: median(values), max: Math.max(...values), runs: values }
  })
  const base = rows.find((r) => r.name === baseline)
  for (const row of rows) row.ratio = base.median / row.median
  return { scenario, unit, baseline, higherIsBetter: true, rows, notes }
}

/** Prints the result as one JSON line for bench/run.mjs, and a table for a person. */
export const emit = (result) => {
  if (result.rows.length === 0) {
    console.error(`\n${result.scenario}: ${(result.notes ?? []).join(" ")}`)
    return console.log(JSON.stringify(result))
  }
  const width = Math.max(...result.rows.map((r) => r.name.length))
  const ratio = result.higherIsBetter === false ? `row ÷ ${result.baseline}` : `${result.baseline} ÷ row`
  console.error(`\n${result.scenario} (${result.unit}, median of ${result.rows[0].runs.length}; ratio = ${ratio})`)
  for (const r of result.rows) {
    console.error(`  ${r.name.padEnd(width)}  ${fmt(r.median).padStart(10)}  [${fmt(r.min)} .. ${fmt(r.max)}]  ratio ${r.ratio.toFixed(2)}×`)
  }
  console.log(JSON.stringify(result))
}

export const fmt = (value) =>
  value < 100 ? value.toFixed(1) : value >= 1e6 ? `${(value / 1e6).toFixed(2)}M` : value >= 1e3 ? `${(value / 1e3).toFixed(1)}k` : value.toFixed(1)

/** Cuts `bytes` into chunks of `size` (the last one shorter). */
export const chunked = (bytes, size) => {
  const out = []
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, Math.min(bytes.length, i + size)))
  return out
}

export const concat = (parts) => Buffer.concat(parts)

/** The p-th quantile (0..1) of `values`, and their mean. */
export const percentile = (values, p) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * p))]
export const mean = (values) => values.reduce((a, b) => a + b, 0) / values.length

export const MiB = 1024 * 1024

// Every child forked here is killed when this process exits, however it exits.
const children = new Set()
process.on("exit", () => {
  for (const child of children) child.kill("SIGKILL")
})

/**
 * Forks a bench script (relative to bench/) with an IPC channel and --expose-gc. The child sends
 * `{ ready: value }` once, then answers each request `{ id, ... }` with `{ id, ... }` (or
 * `{ id, error }`). `env` is added to this process's environment (a key set to undefined is
 * removed). Resolves to `{ ready, call(request), kill() }` once the child is ready.
 */
export const forkChild = (file, args = [], env = {}) => {
  const environment = { ...process.env, ...env }
  for (const [key, value] of Object.entries(env)) if (value === undefined) delete environment[key]
  const child = fork(new URL(file, import.meta.url).pathname, args, {
    execArgv: ["--expose-gc"],
    env: environment,
    stdio: ["ignore", "inherit", "inherit", "ipc"]
  })
  children.add(child)
  const pending = new Map()
  let next = 0
  return new Promise((resolve, reject) => {
    const handle = {
      call: (request) =>
        new Promise((done, fail) => {
          const id = next++
          pending.set(id, { done, fail })
          child.send({ ...request, id })
        }),
      kill: () => {
        children.delete(child)
        child.kill("SIGKILL")
      }
    }
    child.on("message", (message) => {
      if ("ready" in message) return resolve({ ...handle, ready: message.ready })
      const waiting = pending.get(message.id)
      pending.delete(message.id)
      if (message.error !== undefined) waiting?.fail(new Error(`${file}: ${message.error}`))
      else waiting?.done(message)
    })
    child.on("exit", (code, signal) => {
      children.delete(child)
      const error = new Error(`${file} ${args.join(" ")} exited (${signal ?? code})`)
      reject(error)
      for (const { fail } of pending.values()) fail(error)
      pending.clear()
    })
  })
}

/**
 * How ws masks and unmasks payloads in this process: Node's own \`http.websocketMask\` (newer
 * Node versions, where ws needs no helper), the bufferutil addon, or plain JavaScript.
 */
export const wsMasking = async () => {
  const http = await import("node:http")
  if (typeof http.websocketMask === "function") return "node:http websocketMask"
  if (process.env.WS_NO_BUFFER_UTIL) return "js (WS_NO_BUFFER_UTIL)"
  const { createRequire } = await import("node:module")
  try {
    // Resolved from ws itself, as ws does.
    const fromWs = createRequire(createRequire(import.meta.url).resolve("ws"))
    fromWs("bufferutil")
    return "bufferutil"
  } catch {
    return "js (bufferutil not installed)"
  }
}

/** `count` sequential echoes of `payload` over an open ws WebSocket, each one's latency (ms) pushed to `samples`. */
export const wsRoundTrips = async (ws, payload, count, samples) => {
  let wake
  ws.on("message", () => wake())
  for (let i = 0; i < count; i++) {
    const start = performance.now()
    const reply = new Promise((resolve) => (wake = resolve))
    ws.send(payload)
    await reply
    samples.push(performance.now() - start)
  }
}

/** `count` sequential echoes of `payload` over a connected node:net socket; each latency (ms) into `samples`. */
export const netRoundTrips = async (socket, payload, count, samples) => {
  let wake
  let pending = 0
  socket.on("data", (chunk) => {
    pending -= chunk.length
    if (pending <= 0) wake()
  })
  for (let i = 0; i < count; i++) {
    const start = performance.now()
    pending = payload.length
    const reply = new Promise((resolve) => (wake = resolve))
    socket.write(payload)
    await reply
    samples.push(performance.now() - start)
  }
}

// ---- Loading bytechannel and effect from a checkout (the port, or the last Effect 3 commit) ----

/** This workspace: where `@bytechannel/*` and `effect` come from unless a script is given another root. */
export const workspaceRoot = fileURLToPath(new URL("..", import.meta.url)).replace(/\/$/, "")

/**
 * The ESM file of `effect/<subpath>` as the packages under `root` import it. `createRequire` alone
 * resolves with the `require` condition: Effect 3 has a CommonJS build there (dist/cjs), a second
 * copy of the library beside the ESM one bytechannel's dist imports; so the `import` condition of
 * effect's own `exports` is applied here (Effect 4 is ESM only: its `./*` pattern).
 */
const effectManifest = (root) => {
  const path = createRequire(join(root, "packages", "core", "package.json")).resolve("effect/package.json")
  return { path, manifest: JSON.parse(readFileSync(path, "utf8")) }
}
export const resolveEffect = (root, subpath) => {
  const { path, manifest } = effectManifest(root)
  const pick = (entry) => typeof entry === "string" ? entry : entry && (pick(entry.import) ?? pick(entry.node) ?? pick(entry.default))
  const exact = manifest.exports[`./${subpath}`]
  const target = exact !== undefined ? pick(exact) : pick(manifest.exports["./*"])?.replace("*", subpath)
  if (target === undefined) throw new Error(`effect/${subpath}: not exported by ${path}`)
  return pathToFileURL(join(dirname(path), target)).href
}

/**
 * `@bytechannel/core`, `@bytechannel/node` and the effect modules the both-ends scripts use, from
 * the built checkout at `root` (its packages/<name>/dist), with the `effect` that checkout
 * depends on. Only API that Effect 3 and Effect 4 share is used through it; `repeatSync` is the one
 * shim (Effect 3's Stream.repeatEffect is Effect 4's Stream.fromEffectRepeat).
 */
export const loadBytechannel = async (root = workspaceRoot) => {
  const dist = (name) => import(pathToFileURL(join(root, "packages", name, "dist", "index.js")).href)
  const [core, node, Effect, Stream, Option, Fiber, Schema] = await Promise.all([
    dist("core"),
    dist("node"),
    import(resolveEffect(root, "Effect")),
    import(resolveEffect(root, "Stream")),
    import(resolveEffect(root, "Option")),
    import(resolveEffect(root, "Fiber")),
    import(resolveEffect(root, "Schema"))
  ])
  const repeatEffect = Stream.fromEffectRepeat ?? Stream.repeatEffect
  return {
    ByteChannel: core.ByteChannel,
    NodeConnector: node.NodeConnector,
    NodeServer: node.NodeServer,
    Codec: core.Codec,
    Hub: core.Hub,
    Schema,
    Effect,
    Stream,
    Option,
    Fiber,
    effectVersion: effectManifest(root).manifest.version,
    /** An endless stream of `f()`, one element per pull. */
    repeatSync: (f) => repeatEffect(Effect.sync(f))
  }
}

/** Full collections until the heap stops shrinking (a few at most): what is still reachable. */
export const settle = () => {
  for (let i = 0, last = Infinity; i < 5; i++) {
    globalThis.gc?.()
    const heap = process.memoryUsage().heapUsed
    if (heap >= last * 0.99) break
    last = heap
  }
  return process.memoryUsage()
}

// ---- The summary table at the top of RESULTS.md (issue #23's targets) ----------------------
// A scenario's result may carry `summary: [entry]`; bench/run.mjs gathers every entry into one
// table, in SUMMARY_ORDER. An entry: { key, row, target, now, ok, effect3, effectSocket } where
// `now` is bytechannel ÷ ws (text), `ok` true / false / null (no target, or not measured), and
// `effect3` / `effectSocket` the same figures for the last Effect 3 commit and Effect 4's socket.
export const SUMMARY_ORDER = ["churn", "idle", "rtt", "bulk", "slow", "fanout", "framed", "browser", "bun", "deno"]

/** `value` as a ratio: "1.23×". */
export const times = (value) => (Number.isFinite(value) ? `${value.toFixed(2)}×` : "—")
export const verdict = (ok) => (ok === true ? "✓" : ok === false ? "✗" : "—")
/** CPU (user + system) of both ends of `row` per unit: client + server (ms). */
export const cpuBoth = (row) => (row?.clientCpuMs ?? NaN) + (row?.serverCpuMs ?? NaN)
/** "CPU 1.23× ws" (both ends, per unit of work) or "" when either row has no CPU figures. */
export const cpuVs = (row, ws, label = "ws") => {
  const ratio = cpuBoth(row) / cpuBoth(ws)
  return Number.isFinite(ratio) ? `CPU ${times(ratio)} ${label}` : ""
}

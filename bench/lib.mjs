// Shared bits of the benchmark scripts: interleaved runs (A B C, A B C, ...) so machine drift
// hits every contender alike, min/median/max per contender, ratios to bytechannel.
import { performance } from "node:perf_hooks"

export const quick = process.argv.includes("--quick")

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

/**
 * Runs every contender `runs` times, interleaved, after one warm-up each.
 * `contenders`: [{ name, run: async () => units }] where `units` is the amount of work done
 * (bytes or messages); the figure kept is units per second.
 */
export const compare = async ({ scenario, unit, baseline, runs = quick ? 3 : 5, contenders, notes = [] }) => {
  for (const c of contenders) await c.run() // warm-up: JIT, caches, lazy allocations
  const samples = new Map(contenders.map((c) => [c.name, []]))
  for (let i = 0; i < runs; i++) {
    for (const c of contenders) {
      globalThis.gc?.()
      const start = performance.now()
      const units = await c.run()
      const seconds = (performance.now() - start) / 1000
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

// `pnpm bench [--quick] [scenario ...]`: runs each benchmark script in its own process and writes
// bench/results.json, bench/chart.svg and bench/RESULTS.md: first one summary table (a row per
// target of issue #23, and the Bun and Deno rows: bytechannel ÷ ws, ✓/✗, Effect 3 ÷ ws, Effect 4
// socket ÷ ws, from the `summary` entries the scripts attach to their results), then a table per
// scenario (min/median/max, ratio to bytechannel). A full run of every script also fills the
// README's Benchmarks table between its bench-summary markers, when it has them.
// With scenarios named, only their scripts run; the other scripts' results are kept from the
// previous results.json, marked with the run they came from.
import { spawnSync } from "node:child_process"
import { existsSync, readFileSync, writeFileSync } from "node:fs"
import { dirname, join, relative } from "node:path"
import { fileURLToPath } from "node:url"
import { chart } from "./chart.mjs"
import { EFFECT3_COMMIT, prepareEffect3 } from "./effect3.mjs"
import { fmt, SUMMARY_ORDER, verdict } from "./lib.mjs"

const here = dirname(fileURLToPath(import.meta.url))
const quick = process.argv.includes("--quick")
const only = process.argv.slice(2).filter((a) => !a.startsWith("--"))
const allScripts = [
  { file: "codec.mjs", title: "Codec decode, in process" },
  { file: "node.mjs", title: "Node transports over loopback" },
  { file: "framed.mjs", title: "Framed messages end to end" },
  { file: "slow-consumer.mjs", title: "Slow consumer memory" },
  { file: "fanout.mjs", title: "Fan-out" },
  { file: "fanout-hub.mjs", title: "Fan-out across processes (Hub, RedisHub)" },
  { file: "browser.mjs", title: "Browser, in Chromium" },
  { file: "runtimes.mjs", title: "Bun and Deno servers" }
]
const scripts = allScripts.filter((s) => only.length === 0 || only.some((o) => s.file.startsWith(o)))

// The both-ends rows (node.mjs, framed.mjs, slow-consumer.mjs, fanout.mjs) compare the port with
// the last Effect 3 commit: the full run prepares a built checkout of it (bench/effect3.mjs);
// --quick (CI) runs without those rows.
const effect3Scripts = ["node.mjs", "framed.mjs", "slow-consumer.mjs", "fanout.mjs"]
let effect3 = { skipped: `not run (none of ${effect3Scripts.join(", ")} was among the scripts)` }
const environment = { ...process.env }
if (scripts.some((s) => effect3Scripts.includes(s.file))) {
  if (quick && !process.env.BENCH_EFFECT3_ROOT) {
    effect3 = { skipped: "a --quick run has no Effect 3 rows" }
    console.error(`bench: --quick: the Effect 3 rows (the last Effect 3 commit, ${EFFECT3_COMMIT}, at both ends) are skipped; the full \`pnpm bench\` adds them`)
  } else {
    effect3 = prepareEffect3()
    if (effect3.root) environment.BENCH_EFFECT3_ROOT = effect3.root
    else {
      environment.BENCH_EFFECT3_SKIPPED = effect3.skipped
      console.error(`bench: the Effect 3 rows are skipped: ${effect3.skipped}`)
    }
  }
}

const results = []
let failed = false
for (const script of scripts) {
  console.error(`bench: ${script.file}${quick ? " --quick" : ""}`)
  const started = Date.now()
  const run = spawnSync(process.execPath, ["--expose-gc", join(here, script.file), ...(quick ? ["--quick"] : [])], {
    cwd: here,
    env: environment,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
    maxBuffer: 64 * 1024 * 1024
  })
  console.error(`bench: ${script.file} took ${((Date.now() - started) / 1000).toFixed(0)} s`)
  if (run.status !== 0) {
    console.error(`bench: ${script.file} exited with ${run.status}`)
    failed = true
    continue
  }
  for (const line of run.stdout.split("\n")) if (line.startsWith("{")) results.push({ ...JSON.parse(line), script: script.file })
}

const machine = {
  node: process.version,
  platform: `${process.platform}-${process.arch}`,
  quick,
  date: new Date().toISOString(),
  // The checkout as a path in this workspace when it is one (bench/.effect3), else as given.
  effect3: effect3.root
    ? { commit: EFFECT3_COMMIT, root: relative(dirname(here), effect3.root).startsWith("..") ? effect3.root : relative(dirname(here), effect3.root) }
    : { commit: EFFECT3_COMMIT, skipped: effect3.skipped }
}
const resultsPath = join(here, "results.json")
if (only.length > 0 && existsSync(resultsPath)) {
  const previous = JSON.parse(readFileSync(resultsPath, "utf8"))
  const ran = new Set(scripts.map((s) => s.file))
  for (const r of previous.results) if (!ran.has(r.script)) results.push({ ...r, from: r.from ?? previous.machine })
  const order = (r) => allScripts.findIndex((s) => s.file === r.script)
  results.sort((a, b) => order(a) - order(b)) // stable: scenarios keep their order within a script
  if (!effect3Scripts.some((file) => ran.has(file)) && previous.machine.effect3) machine.effect3 = { ...previous.machine.effect3, from: previous.machine.date }
}
writeFileSync(resultsPath, JSON.stringify({ machine, results }, null, 2) + "\n")

const md = [
  "# Benchmark results",
  "",
  `Node ${machine.node}, ${machine.platform}${quick ? ", **quick run**" : ""}. Generated by \`pnpm bench\`; each contender runs`,
  "interleaved with the others (A B C, A B C, ...) after a warm-up. For throughput the ratio is",
  "bytechannel's median divided by the row's (above 1: bytechannel is faster); for memory it is the",
  "row's divided by bytechannel's (above 1: bytechannel holds less). Machines here are noisy; read the",
  "ratios, not the absolute figures.",
  "",
  machine.effect3.root
    ? `The "Effect 3" rows are bytechannel at the last Effect 3 commit (${EFFECT3_COMMIT}), built in \`${machine.effect3.root}\`, run by the same both-ends scripts as the port.`
    : `No "Effect 3" rows in this run: ${machine.effect3.skipped}.`,
  ...(machine.effect3.from ? [`(That is about the both-ends results kept from the run of ${machine.effect3.from}.)`] : []),
  ""
]
// The summary: one line per target of issue #23 (and the Bun and Deno rows), each from its scenario.
const summary = results.flatMap((r) => (r.summary ?? []).map((entry) => ({ ...entry, from: r.from })))
summary.sort((a, b) => SUMMARY_ORDER.indexOf(a.key) - SUMMARY_ORDER.indexOf(b.key))
const cell = (text) => String(text ?? "—").replace(/\|/g, "\\|")
if (summary.length > 0) {
  md.push(
    "## Summary: targets (bytechannel ÷ ws, both ends, bufferutil on both sides)",
    "",
    "Every ratio is from this run, its contenders interleaved; CPU is user + system time of both ends (client + server) for the same work, the steadier figure on a busy machine.",
    "",
    "| row | target | bytechannel ÷ ws now | ✓/✗ | Effect 3 ÷ ws | Effect 4 socket ÷ ws |",
    "|---|---|---|:-:|---|---|"
  )
  for (const e of summary) {
    const earlier = e.from ? ` _(from the run of ${e.from.date}${e.from.quick ? ", quick" : ""})_` : ""
    md.push(`| ${cell(e.row)}${earlier} | ${cell(e.target)} | ${cell(e.now)} | ${verdict(e.ok)} | ${cell(e.effect3)} | ${cell(e.effectSocket)} |`)
  }
  md.push("")
  console.error("\nbench: summary")
  for (const e of summary) console.error(`  ${verdict(e.ok)} ${e.row}: ${e.now} (target ${e.target}); Effect 3: ${e.effect3}; Effect 4 socket: ${e.effectSocket}`)
}
for (const r of results) {
  const ratio = r.higherIsBetter === false ? `row ÷ ${r.baseline}` : `${r.baseline} ÷ row`
  md.push(`## ${r.scenario}`, "", `| contender | median ${r.unit} | min | max | ratio (${ratio}) |`, "|---|---:|---:|---:|---:|")
  for (const row of r.rows) md.push(`| ${row.name} | ${fmt(row.median)} | ${fmt(row.min)} | ${fmt(row.max)} | ${row.ratio.toFixed(2)}× |`)
  for (const note of r.notes ?? []) md.push("", `_${note}_`)
  if (r.from) md.push("", `_From an earlier run (${r.from.date}${r.from.quick ? ", quick" : ""}, Node ${r.from.node}); this run did not repeat ${r.script}._`)
  md.push("")
}
md.push("![ratios](chart.svg)", "")

// The README's Benchmarks table, when README.md marks a place for it
// (<!-- bench-summary:start --> ... <!-- bench-summary:end -->): filled from a full run of every
// script only, so a quick or partial run never replaces the full figures there.
const readmePath = join(dirname(here), "README.md")
const startMark = "<!-- bench-summary:start -->"
const endMark = "<!-- bench-summary:end -->"
if (!quick && only.length === 0 && !failed && summary.length > 0 && existsSync(readmePath)) {
  const readme = readFileSync(readmePath, "utf8")
  const [at, end] = [readme.indexOf(startMark), readme.indexOf(endMark)]
  if (at !== -1 && end > at) {
    const table = [
      `_From \`pnpm bench\` of ${machine.date.slice(0, 10)} (Node ${machine.node}, ${machine.platform}); ratios from one run, contenders interleaved; see [bench/RESULTS.md](bench/RESULTS.md)._`,
      "",
      "| row | target | bytechannel ÷ ws | ✓/✗ | Effect 3 ÷ ws | Effect 4 socket ÷ ws |",
      "|---|---|---|:-:|---|---|",
      ...summary.map((e) => `| ${cell(e.row)} | ${cell(e.target)} | ${cell(e.now)} | ${verdict(e.ok)} | ${cell(e.effect3)} | ${cell(e.effectSocket)} |`)
    ]
    writeFileSync(readmePath, `${readme.slice(0, at + startMark.length)}\n${table.join("\n")}\n${readme.slice(end)}`)
    console.error("bench: README.md's Benchmarks table updated (between its bench-summary markers)")
  }
}
writeFileSync(join(here, "RESULTS.md"), md.join("\n"))
writeFileSync(join(here, "chart.svg"), chart(results))
console.error(`bench: wrote bench/results.json and bench/RESULTS.md (${results.length} scenarios)`)
process.exit(failed || results.length === 0 ? 1 : 0)

// Starts bench/server.mjs (its own process) and hands its WebSocket URL to the browser bench.
import { spawn } from "node:child_process"
import { once } from "node:events"
import { fileURLToPath } from "node:url"
import type { TestProject } from "vitest/node"

declare module "vitest" {
  export interface ProvidedContext {
    bench: { ws: string; quick: boolean }
  }
}

export default async function setup(project: TestProject) {
  const server = spawn(process.execPath, [fileURLToPath(new URL("../server.mjs", import.meta.url)), "0"], { stdio: ["ignore", "pipe", "inherit"] })
  const [line] = await once(server.stdout.setEncoding("utf8"), "data")
  const ports = JSON.parse(String(line))
  project.provide("bench", { ws: `ws://127.0.0.1:${ports.ws}`, quick: process.env.BENCH_QUICK === "1" })
  return () => {
    server.kill("SIGKILL")
  }
}

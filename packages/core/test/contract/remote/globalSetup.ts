/**
 * For a runtime project's globalSetup (Bun, Deno): starts the peer host (host.ts) in a Node 22
 * child process, the project's own Node (node_modules/.bin/node, from the `node` package), under
 * tsx, and hands its servers to the tests as `inject("servers")`:
 *
 *   // packages/<runtime>/test/globalSetup.ts
 *   import type { TestProject } from "vitest/node"
 *   import { startNodeHost } from "../../core/test/contract/remote/globalSetup.js"
 *   export default (project: TestProject) => startNodeHost(project, new URL("..", import.meta.url))
 *
 * `packageDir` is a package that depends on `ws` (the host loads it from there).
 */
import { spawn } from "node:child_process"
import { fileURLToPath, pathToFileURL } from "node:url"
import type { TestProject } from "vitest/node"
import type { HostServers } from "./host.js"

declare module "vitest" {
  export interface ProvidedContext {
    servers: HostServers
  }
}

const ROOT = fileURLToPath(new URL("../../../../../", import.meta.url))
/**
 * The project's Node 22 (the `node` devDependency), whatever runtime runs the tests: its binary,
 * not node_modules/.bin/node (a shell wrapper: a signal to it would leave Node running).
 */
export const NODE = `${ROOT}node_modules/node/bin/node`
const TSX = pathToFileURL(`${ROOT}node_modules/tsx/dist/loader.mjs`).href
const HOST = fileURLToPath(new URL("./nodeHost.ts", import.meta.url))
/** How long the host may take to start, and to stop once told to. */
const START_TIMEOUT_MILLIS = 20_000
const STOP_TIMEOUT_MILLIS = 5_000

/** Starts the host; the returned teardown stops it (and kills it if it does not stop). */
export const startNodeHost = async (project: TestProject, packageDir: URL): Promise<() => Promise<void>> => {
  const child = spawn(NODE, ["--import", TSX, HOST, fileURLToPath(packageDir)], { stdio: ["pipe", "pipe", "inherit"] })
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()))
  const servers = await new Promise<HostServers>((resolve, reject) => {
    let buffered = ""
    const timer = setTimeout(() => reject(new Error("the Node peer host did not start in time")), START_TIMEOUT_MILLIS)
    child.stdout!.setEncoding("utf8").on("data", (text: string) => {
      buffered += text
      const nl = buffered.indexOf("\n")
      if (nl === -1) return
      clearTimeout(timer)
      resolve(JSON.parse(buffered.slice(0, nl)) as HostServers)
    })
    child.once("exit", (code) => {
      clearTimeout(timer)
      reject(new Error(`the Node peer host exited (${code}) before it started`))
    })
  })
  project.provide("servers", servers)
  return async () => {
    child.stdin!.end()
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MILLIS)
    await exited
    clearTimeout(timer)
  }
}

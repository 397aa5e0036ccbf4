/**
 * The peer host (host.ts) as a Node process, for subjects in Bun or Deno:
 *   node --import tsx nodeHost.ts <package dir>
 * `ws` is loaded from the given package (one that depends on it). Prints the servers as one JSON
 * line on stdout, then runs until its stdin closes (the parent exited or closed it) or SIGTERM.
 */
import { createRequire } from "node:module"
import { join } from "node:path"
import { startHost, type WsModule } from "./host.js"

const from = process.argv[2]
if (from === undefined) throw new Error("usage: nodeHost.ts <package dir that depends on ws>")
const ws = createRequire(join(from, "package.json"))("ws") as WsModule
const host = await startHost(ws)
process.stdout.write(`${JSON.stringify(host.servers)}\n`)
const stop = () => void host.close().finally(() => process.exit(0))
process.stdin.on("end", stop).on("close", stop).resume()
process.once("SIGTERM", stop)

/**
 * Helpers of this package's tests: child processes, peers, a plain `ws` server. Those shared with
 * other packages (random data, certificates, redis-server) are in core/test (utils.ts, nodeUtils.ts).
 */
import * as Effect from "effect/Effect"
import * as Schedule from "effect/Schedule"
import * as Tracer from "effect/Tracer"
import { spawn } from "node:child_process"
import { createRequire } from "node:module"
import type * as Net from "node:net"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { type WebSocket, WebSocketServer } from "ws"

export const concat = (parts: ReadonlyArray<Uint8Array>) => Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.length)))

/**
 * Waits until `condition` holds, polling every 20 ms at most 500 times (10 s), then fails naming
 * `what`: for what the process learns a moment later (a server sees a close after the client).
 */
export const eventually = (condition: () => boolean, what: string | (() => string)) =>
  Effect.suspend(() =>
    condition() ? Effect.void : Effect.fail(new Error(`not yet: ${typeof what === "string" ? what : what()}`))
  ).pipe(Effect.retry({ schedule: Schedule.spaced("20 millis"), times: 500 }))

/** Runs `tick` every `millis` (a Node timer: it drives raw sockets) until the scope closes. */
export const every = (millis: number, tick: () => void) =>
  Effect.asVoid(Effect.acquireRelease(Effect.sync(() => setInterval(tick, millis)), (timer) => Effect.sync(() => clearInterval(timer))))

/**
 * Runs a child process and reads its stdout line by line (`line(i)` waits for the i-th line or
 * fails if the child exits first). The child is killed with the scope.
 */
export const spawnWithLines = (
  command: string,
  args: ReadonlyArray<string>,
  options?: { readonly cwd?: string; readonly env?: NodeJS.ProcessEnv }
) =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const child = spawn(command, args, { stdio: ["ignore", "pipe", "inherit"], cwd: options?.cwd, env: options?.env })
      const lines: Array<string> = []
      const waiters: Array<() => void> = []
      let buffered = ""
      const wake = () => waiters.splice(0).forEach((waiter) => waiter())
      child.stdout.setEncoding("utf8").on("data", (text: string) => {
        buffered += text
        let nl: number
        while ((nl = buffered.indexOf("\n")) !== -1) {
          lines.push(buffered.slice(0, nl))
          buffered = buffered.slice(nl + 1)
        }
        wake()
      })
      const exited = new Promise<number | null>((resolve) =>
        child.on("exit", (code) => {
          wake()
          resolve(code)
        })
      )
      const line = (index: number) =>
        Effect.callback<string, Error>((resume) => {
          const check = () => {
            if (lines.length > index) resume(Effect.succeed(lines[index]!))
            else if (child.exitCode !== null || child.signalCode !== null) {
              resume(Effect.fail(new Error(`child exited (${child.exitCode ?? child.signalCode})`)))
            } else waiters.push(check)
          }
          check()
        })
      return { process: child, line, exited, output: (): ReadonlyArray<string> => lines }
    }),
    ({ process: child }) => Effect.sync(() => child.kill("SIGKILL"))
  )

const PEERS = fileURLToPath(new URL("./peers/", import.meta.url))
const TSX = pathToFileURL(createRequire(import.meta.url).resolve("tsx")).href

/**
 * Runs `peers/<name>.ts` in a child Node process under tsx, whose `paths` (peers/tsconfig.json)
 * map `@bytechannel/*` to the sources, as Vitest's aliases do: a peer tests the code under test,
 * never a stale `dist`. `nodeOptions` go before the script (`--expose-gc`).
 */
export const spawnPeer = (
  name: string,
  args: ReadonlyArray<string>,
  options?: { readonly nodeOptions?: ReadonlyArray<string> }
) =>
  spawnWithLines(process.execPath, [...(options?.nodeOptions ?? []), "--import", TSX, join(PEERS, `${name}.ts`), ...args], {
    env: { ...process.env, TSX_TSCONFIG_PATH: join(PEERS, "tsconfig.json") }
  })

/** A plain `ws` server (no backpressure of its own) whose connections `onConnection` drives; closed with the scope. */
export const rawServer = (onConnection: (ws: WebSocket) => void) =>
  Effect.acquireRelease(
    Effect.callback<{ wss: WebSocketServer; url: string }>((resume) => {
      const wss: WebSocketServer = new WebSocketServer({ host: "127.0.0.1", port: 0 }, () => {
        resume(Effect.succeed({ wss, url: `ws://127.0.0.1:${(wss.address() as Net.AddressInfo).port}/` }))
      })
      wss.on("connection", onConnection)
    }),
    ({ wss }) =>
      Effect.callback<void>((resume) => {
        for (const client of wss.clients) client.terminate()
        wss.close(() => resume(Effect.void))
      })
  )

/** A tracer that keeps every span it makes (Effect's own `NativeSpan`), in order. */
export const recordingTracer = () => {
  const spans: Array<Tracer.NativeSpan> = []
  const tracer = Tracer.make({
    span: (options) => {
      const span = new Tracer.NativeSpan(options)
      spans.push(span)
      return span
    }
  })
  return { tracer, spans }
}

import * as Effect from "effect/Effect"
import { execFileSync, spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import { createRequire } from "node:module"
import type * as Net from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath, pathToFileURL } from "node:url"
import { type WebSocket, WebSocketServer } from "ws"

/** A self-signed certificate for 127.0.0.1, made with openssl for this test run. */
export const selfSignedCertificate = (): { readonly key: string; readonly cert: string } => {
  const dir = mkdtempSync(join(tmpdir(), "bytechannel-tls-"))
  try {
    execFileSync("openssl", [
      "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
      "-keyout", join(dir, "key.pem"), "-out", join(dir, "cert.pem"),
      "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"
    ], { stdio: "ignore" })
    return { key: readFileSync(join(dir, "key.pem"), "utf8"), cert: readFileSync(join(dir, "cert.pem"), "utf8") }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** A reproducible pseudo-random source (mulberry32). */
export const prng = (seed: number) => {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

export const randomBytes = (random: () => number, size: number) => {
  const bytes = new Uint8Array(size)
  for (let i = 0; i < size; i++) bytes[i] = (random() * 256) | 0
  return bytes
}

export const concat = (parts: ReadonlyArray<Uint8Array>) => Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.length)))


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
        Effect.async<string, Error>((resume) => {
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
    Effect.async<{ wss: WebSocketServer; url: string }>((resume) => {
      const wss: WebSocketServer = new WebSocketServer({ host: "127.0.0.1", port: 0 }, () => {
        resume(Effect.succeed({ wss, url: `ws://127.0.0.1:${(wss.address() as Net.AddressInfo).port}/` }))
      })
      wss.on("connection", onConnection)
    }),
    ({ wss }) =>
      Effect.async<void>((resume) => {
        for (const client of wss.clients) client.terminate()
        wss.close(() => resume(Effect.void))
      })
  )

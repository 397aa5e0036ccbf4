/**
 * Test helpers shared by the Node-side tests of every package (node, cli, redis, examples):
 * a self-signed certificate made with openssl, and a real `redis-server` (Debian's package) on a
 * free 127.0.0.1 port, with a TCP proxy in front of it that a test can freeze or cut. Node only:
 * what also runs in the browser is in `utils.ts`.
 */
import * as Effect from "effect/Effect"
import * as Result from "effect/Result"
import type * as Scope from "effect/Scope"
import { type ChildProcess, execFileSync, spawn } from "node:child_process"
import { mkdtempSync, readFileSync, rmSync } from "node:fs"
import * as Net from "node:net"
import { tmpdir } from "node:os"
import { join } from "node:path"

// ---- TLS ----------------------------------------------------------------------------------------

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

// ---- redis-server: without persistence, killed with the scope; it can be killed and started ----
// ---- again on the same port. -------------------------------------------------------------------

const REDIS_SERVER = process.env.REDIS_SERVER ?? "redis-server"
const READY_DEADLINE_MILLIS = 10_000

/** A port that was free a moment ago: listen on 0, read it, close. */
export const freePort = Effect.callback<number, Error>((resume) => {
  const server = Net.createServer()
  server.once("error", (error) => resume(Effect.fail(error)))
  server.listen(0, "127.0.0.1", () => {
    const { port } = server.address() as Net.AddressInfo
    server.close(() => resume(Effect.succeed(port)))
  })
})

/** Starts redis-server on `port` and waits for its "Ready to accept connections" line. */
const startOn = (port: number) =>
  Effect.callback<ChildProcess, Error>((resume) => {
    const child = spawn(REDIS_SERVER, [
      "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
      "--dir", tmpdir(), "--loglevel", "notice"
    ], { stdio: ["ignore", "pipe", "pipe"] })
    let output = ""
    let settled = false
    const settle = (effect: Effect.Effect<ChildProcess, Error>) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resume(effect)
    }
    const timer = setTimeout(() => {
      child.kill("SIGKILL")
      settle(Effect.fail(new Error(`redis-server not ready within ${READY_DEADLINE_MILLIS} ms:\n${output}`)))
    }, READY_DEADLINE_MILLIS)
    const onData = (text: string) => {
      output += text
      if (output.includes("Ready to accept connections")) settle(Effect.succeed(child))
    }
    child.stdout!.setEncoding("utf8").on("data", onData)
    child.stderr!.setEncoding("utf8").on("data", onData)
    child.once("error", (error) => settle(Effect.fail(error)))
    child.once("exit", (code, signal) => settle(Effect.fail(new Error(`redis-server exited (${code ?? signal}):\n${output}`))))
    return Effect.sync(() => {
      clearTimeout(timer)
      child.kill("SIGKILL")
    })
  })

const stop = (child: ChildProcess) =>
  Effect.callback<void>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
    child.once("exit", () => resume(Effect.void))
    child.kill("SIGKILL")
  })

export interface RedisServer {
  readonly port: number
  readonly url: string
  /** SIGKILL, as a crash: nothing is saved. */
  readonly kill: Effect.Effect<void>
  /** Starts it again on the same port (empty: no persistence). */
  readonly restart: Effect.Effect<void, Error>
}

/** A redis-server for the scope: a free port (a few tries, should another process take it first). */
export const redisServer: Effect.Effect<RedisServer, Error, Scope.Scope> = Effect.gen(function*() {
  let child: ChildProcess | undefined
  let port = 0
  for (let attempt = 1; child === undefined; attempt++) {
    port = yield* freePort
    const started = yield* Effect.result(startOn(port))
    if (Result.isSuccess(started)) child = started.success
    else if (attempt === 3) return yield* Effect.fail(started.failure)
  }
  yield* Effect.addFinalizer(() => (child === undefined ? Effect.void : stop(child)))
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    kill: Effect.suspend(() => (child === undefined ? Effect.void : stop(child))),
    restart: Effect.suspend(() => startOn(port)).pipe(Effect.map((started) => void (child = started)))
  }
})

export interface Proxy {
  readonly url: string
  /** Stops forwarding in both directions on the current connections (new ones still flow). */
  readonly freeze: Effect.Effect<void>
  /** Destroys every current connection. */
  readonly cut: Effect.Effect<void>
}

/**
 * A TCP proxy on 127.0.0.1 to `port`, closed with the scope. With `slow`, what a connection sends
 * once its bytes name `slow.match` is held back by `slow.millis`, in order (replies are not).
 */
export const proxy = (
  port: number,
  slow?: { readonly match: string; readonly millis: number }
): Effect.Effect<Proxy, Error, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.callback<{ server: Net.Server; sockets: Set<Net.Socket>; url: string }, Error>((resume) => {
      const sockets = new Set<Net.Socket>()
      const server = Net.createServer((client) => {
        const upstream = Net.connect(port, "127.0.0.1")
        for (const socket of [client, upstream]) {
          sockets.add(socket)
          socket.on("error", () => {})
          socket.on("close", () => {
            sockets.delete(socket)
            client.destroy()
            upstream.destroy()
          })
        }
        upstream.pipe(client)
        if (slow === undefined) {
          client.pipe(upstream)
          return
        }
        let seen = ""
        let matched = false
        client.on("data", (chunk: Buffer) => {
          if (!matched && seen.length < 4096) matched = (seen += chunk.toString("latin1")).includes(slow.match)
          if (matched) setTimeout(() => upstream.write(chunk), slow.millis)
          else upstream.write(chunk)
        })
      })
      server.once("error", (error) => resume(Effect.fail(error)))
      server.listen(0, "127.0.0.1", () =>
        resume(Effect.succeed({ server, sockets, url: `redis://127.0.0.1:${(server.address() as Net.AddressInfo).port}` })))
    }),
    ({ server, sockets }) =>
      Effect.callback<void>((resume) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map(({ sockets, url }) => ({
    url,
    freeze: Effect.sync(() => {
      for (const socket of sockets) {
        socket.unpipe()
        socket.pause()
      }
    }),
    cut: Effect.sync(() => {
      for (const socket of sockets) socket.destroy()
    })
  })))

/**
 * The chat on several server processes sharing a real redis-server: three `examples/chat/main.ts
 * --redis` processes (the sources bundled once by esbuild for this file: a process starts in a
 * fraction of a second, and never runs a stale dist), clients spread across them (the chat's own
 * client: Reconnect with failover between servers). Every message reaches every client exactly
 * once, in each sender's order; Redis killed and restarted mid-run: each server keeps serving its
 * own clients, and afterwards every cross-process message arrives (none lost, none doubled);
 * a server killed: its clients move to another and keep chatting.
 */
import type { Connector, Reconnect } from "@bytechannel/core"
import { NodeConnector } from "@bytechannel/node"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import type * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import { spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { redisServer } from "../../packages/core/test/nodeUtils.js"
import { watch } from "../../packages/core/test/utils.js"
import { connectChat } from "../chat/client.js"
import type { ServerMessage } from "../chat/protocol.js"

const MAIN = fileURLToPath(new URL("../chat/main.ts", import.meta.url))
const TSCONFIG = fileURLToPath(new URL("./peers/tsconfig.json", import.meta.url))
const require = createRequire(import.meta.url)
// esbuild comes with vite (a dependency of the examples); the part of its API used here.
const esbuild: { readonly build: (options: Record<string, unknown>) => Promise<unknown> } = createRequire(require.resolve("vite"))("esbuild")
const bundleDir = mkdtempSync(join(tmpdir(), "bytechannel-chat-"))
const BUNDLE = join(bundleDir, "main.mjs")

// The chat server from the sources (peers/tsconfig.json maps @bytechannel/* to src), one file.
beforeAll(() =>
  esbuild.build({
    entryPoints: [MAIN],
    outfile: BUNDLE,
    tsconfig: TSCONFIG,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    logLevel: "warning",
    external: ["bufferutil", "utf-8-validate"],
    banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" }
  }), 60_000)
afterAll(() => rmSync(bundleDir, { recursive: true, force: true }))
const DEADLINE_MILLIS = 20_000


/** One chat server process on a free port, sharing `redis`; its stdout lines watched; killed with the scope. */
const chatServer = (redis: string) =>
  Effect.gen(function*() {
    const lines = watch<string>(DEADLINE_MILLIS)
    const child = yield* Effect.acquireRelease(
      Effect.sync(() => {
        const child = spawn(process.execPath, [BUNDLE, "--port", "0", "--redis", redis, "--presence-ms", "200"], {
          stdio: ["ignore", "pipe", "inherit"]
        })
        let buffered = ""
        child.stdout.setEncoding("utf8").on("data", (text: string) => {
          buffered += text
          for (let nl = buffered.indexOf("\n"); nl !== -1; nl = buffered.indexOf("\n")) {
            lines.push(buffered.slice(0, nl))
            buffered = buffered.slice(nl + 1)
          }
        })
        child.on("exit", (code, signal) => lines.push(`exited ${code ?? signal}`))
        return child
      }),
      (child) => kill(child)
    )
    const find = (pattern: RegExp) => lines.items.map((line) => pattern.exec(line)).find((match) => match !== null)
    yield* lines.until(
      (items) => items.some((line) => line.startsWith("exited")) || (items.some((line) => line.startsWith("chat: server")) && items.some((line) => line.startsWith("hub: redis connected"))),
      "the server to listen and reach Redis (in either order)"
    )
    const port = Number(find(/^chat: open http:\/\/127\.0\.0\.1:(\d+)\//)?.[1])
    const name = find(/^chat: server (.+), sharing/)?.[1]
    expect(port, lines.items.join("\n")).toBeGreaterThan(0)
    return { url: `ws://127.0.0.1:${port}/chat`, name: name!, lines, kill: kill(child) }
  })

const kill = (child: ReturnType<typeof spawn>) =>
  Effect.callback<void>((resume) => {
    if (child.exitCode !== null || child.signalCode !== null) return resume(Effect.void)
    child.once("exit", () => resume(Effect.void))
    child.kill("SIGKILL")
  })

type Server = Effect.Success<ReturnType<typeof chatServer>>

/** A chat client that starts on `servers[home]` and fails over to the others. */
const client = (name: string, servers: ReadonlyArray<Server>, home: number) =>
  Effect.gen(function*() {
    const got = watch<ServerMessage>(DEADLINE_MILLIS)
    const events = watch<Reconnect.ReconnectEvent>(DEADLINE_MILLIS)
    const urls = servers.map((_, i) => servers[(home + i) % servers.length]!.url)
    const chat = yield* connectChat(urls, (event) => Effect.sync(() => events.push(event)))
    yield* Effect.forkScoped(Stream.runForEach(chat.messages, (message) => Effect.sync(() => message._tag !== "Say" && message._tag !== "Ping" && got.push(message))))
    yield* got.until((items) => items.some((m) => m._tag === "Welcome"), `${name}'s welcome`)
    return { name, home, got, events, say: (text: string) => chat.send({ _tag: "Say", from: name, text }) }
  })

type Client = Effect.Success<ReturnType<typeof client>>

/** What `from` said, as numbers, in the order `to` got them. */
const heard = (to: Client, from: string) =>
  to.got.items.flatMap((m) => (m._tag === "Said" && m.from === from && /^\d+$/.test(m.text) ? [Number(m.text)] : []))
const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i)
const lastServer = (c: Client) => c.got.items.flatMap((m) => (m._tag === "Welcome" ? [m.server] : [])).at(-1)
const lastOnline = (c: Client) =>
  c.got.items.flatMap((m) => (m._tag === "Welcome" ? [m.online] : m._tag === "Online" ? [m.count] : [])).at(-1)

/** Three servers on one Redis, `perServer` clients on each. */
const cluster = (perServer: number) =>
  Effect.gen(function*() {
    const redis = yield* redisServer
    const servers = yield* Effect.all([chatServer(redis.url), chatServer(redis.url), chatServer(redis.url)], { concurrency: 3 })
    const clients = yield* Effect.all(
      range(0, 3 * perServer).map((i) => client(`c${i}`, servers, i % 3)),
      { concurrency: "unbounded" }
    )
    for (const c of clients) expect(lastServer(c)).toBe(servers[c.home]!.name)
    return { redis, servers, clients }
  })

/** Every client says an end marker; when each has every marker, everything said before is in too. */
const barrier = (clients: ReadonlyArray<Client>, marker: string) =>
  Effect.gen(function*() {
    yield* Effect.forEach(clients, (c) => c.say(marker), { concurrency: "unbounded", discard: true })
    for (const c of clients) {
      yield* c.got.until((items) => items.filter((m) => m._tag === "Said" && m.text === marker).length === clients.length, `${c.name} to get every "${marker}"`)
    }
  })

const sayAll = (clients: ReadonlyArray<Client>, numbers: ReadonlyArray<number>) =>
  Effect.forEach(clients, (c) => Effect.forEach(numbers, (n) => Effect.andThen(Effect.yieldNow, c.say(String(n))), { discard: true }), {
    concurrency: "unbounded",
    discard: true
  })

const itLive = (name: string, body: () => Effect.Effect<void, unknown, Scope.Scope | Connector.Connector>, timeout: number) =>
  it.live(name, () => body().pipe(Effect.scoped, Effect.provide(NodeConnector.layer)), timeout)

describe("chat on three server processes sharing Redis", () => {
  itLive("every message reaches every client exactly once, in each sender's order; every page counts everyone", () =>
    Effect.gen(function*() {
      const { clients } = yield* cluster(3)
      yield* sayAll(clients, range(0, 30))
      yield* barrier(clients, "end")
      for (const to of clients) {
        for (const from of clients) expect(heard(to, from.name), `${from.name} → ${to.name}`).toEqual(range(0, 30))
      }
      for (const c of clients) yield* c.got.until(() => lastOnline(c) === 9, `${c.name} to see 9 online`)
    }), 40_000)

  itLive("Redis killed mid-run and restarted: servers keep serving their own clients, then every message crosses, once, in order", () =>
    Effect.gen(function*() {
      const { redis, servers, clients } = yield* cluster(2)
      // Everyone talking, and Redis dies under it.
      const talking = yield* Effect.forkChild(sayAll(clients, range(0, 20)))
      yield* clients[0]!.got.until(() => heard(clients[0]!, clients[1]!.name).length >= 5, "some cross-process traffic")
      yield* redis.kill
      yield* Fiber.join(talking)
      for (const s of servers) yield* s.lines.until((items) => items.some((l) => l.startsWith("hub: redis disconnected")), `${s.name} to notice`)

      // Redis is down: each server still serves its own clients.
      yield* sayAll(clients, range(20, 40))
      for (const to of clients) {
        for (const from of clients.filter((c) => c.home === to.home)) {
          yield* to.got.until(() => heard(to, from.name).length === 40, `${from.name} → ${to.name} on the same server`)
          expect(heard(to, from.name)).toEqual(range(0, 40))
        }
        for (const from of clients.filter((c) => c.home !== to.home)) {
          expect(heard(to, from.name).filter((n) => n >= 20), `${from.name} → ${to.name} crossed without Redis`).toEqual([])
        }
      }

      yield* redis.restart
      for (const s of servers) yield* s.lines.until((items) => items.some((l) => l.startsWith("hub: redis connected (a new instance")), `${s.name} to reach the new Redis`)
      yield* barrier(clients, "end")
      for (const to of clients) {
        for (const from of clients) expect(heard(to, from.name), `${from.name} → ${to.name}`).toEqual(range(0, 40))
      }
      for (const s of servers) expect(s.lines.items.filter((l) => /lost|dropped/.test(l))).toEqual([])
    }), 40_000)

  itLive("a server process killed: its clients reconnect to another and keep chatting", () =>
    Effect.gen(function*() {
      const { servers, clients } = yield* cluster(2)
      const victims = clients.filter((c) => c.home === 2)
      yield* servers[2]!.kill
      for (const c of victims) {
        yield* c.events.until((items) => items.filter((e) => e._tag === "Connected").length === 2, `${c.name} to reconnect`)
        yield* c.got.until(() => lastServer(c) !== servers[2]!.name, `${c.name}'s welcome from another server`)
        expect([servers[0]!.name, servers[1]!.name]).toContain(lastServer(c))
      }
      yield* sayAll(clients, range(0, 10))
      yield* barrier(clients, "after")
      for (const to of clients) {
        for (const from of clients) expect(heard(to, from.name), `${from.name} → ${to.name}`).toEqual(range(0, 10))
      }
      // The dead server stops being counted once it has been silent for three presence intervals.
      for (const c of clients) yield* c.got.until(() => lastOnline(c) === 6, `${c.name} to see 6 online`)
    }), 40_000)
})

// The close code a NodeServer connection ends with, on both of its paths (no keepalive: the ws
// socket has no scope of its own and ByteChannel.handle closes it; keepalive: the scoped path).
import { NodeServer } from "@bytechannel/node"
import { describe, expect, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Logger from "effect/Logger"
import * as Scope from "effect/Scope"
import { WebSocket } from "ws"
import { eventually } from "./fixtures.js"

interface Client {
  readonly code: Promise<number>
  readonly ws: WebSocket
}
const open = (url: string) =>
  Effect.acquireRelease(
    Effect.callback<Client, Error>((resume) => {
      const ws = new WebSocket(url)
      const code = new Promise<number>((resolve) => ws.on("close", (c) => resolve(c)))
      ws.on("error", () => {})
      ws.once("open", () => resume(Effect.succeed({ ws, code })))
      ws.once("unexpected-response", () => resume(Effect.fail(new Error("refused"))))
    }),
    ({ ws }) => Effect.sync(() => ws.terminate())
  )
const codeOf = (client: Client) => Effect.promise(() => client.code).pipe(Effect.timeout("5 seconds"))

for (const keepalive of [false, true]) {
  const base: NodeServer.ServeOptions = keepalive ? { pingInterval: "10 seconds" } : {}
  describe(`close codes (${keepalive ? "keepalive, scoped" : "no keepalive, owned"})`, () => {
    const cases: ReadonlyArray<readonly [string, () => Effect.Effect<void, string>, number, boolean]> = [
      ["returns", () => Effect.void, 1000, false],
      ["fails", () => Effect.fail("boom"), 1011, false],
      ["dies", () => Effect.die("boom"), 1011, true],
      ["throws as it is called", () => {
        throw new Error("thrown")
      }, 1011, true],
      ["interrupts itself", () => Effect.interrupt, 1001, false]
    ]
    for (const [name, handler, code, warns] of cases) {
      it.live(`a handler that ${name}: ${code}, released${warns ? ", WARN logged" : ""}`, () => {
        const warnings: Array<string> = []
        const logger = Logger.make((options) => {
          if (options.logLevel === "Warn") warnings.push(String(options.message))
        })
        return Effect.gen(function*() {
          const server = yield* NodeServer.serve(base, handler)
          const client = yield* open(server.url)
          expect(yield* codeOf(client)).toBe(code)
          yield* eventually(() => server.connections() === 0, "released")
          if (warns) yield* eventually(() => warnings.some((w) => w.includes("could not serve a connection")), "the WARN")
          else expect(warnings).toEqual([])
        }).pipe(Effect.scoped, Effect.provide(Logger.layer([logger])))
      })
    }

    it.live("server shutdown: 1001 to a handler that never reads (peer sending), a waiting one, and the scope close ends", () =>
      Effect.gen(function*() {
        const scope = yield* Scope.make()
        const server = yield* NodeServer.serve(base, (channel) => Effect.andThen(channel.closed, Effect.never)).pipe(
          Scope.provide(scope)
        )
        const clients = yield* Effect.all([open(server.url), open(server.url), open(server.url)])
        // Past both receive bounds (64 messages, 4 MiB): the server pauses reading this one.
        for (let i = 0; i < 100; i++) clients[0].ws.send(new Uint8Array(64 * 1024))
        yield* eventually(() => server.connections() === 3, "three connections")
        yield* Scope.close(scope, Exit.void).pipe(Effect.timeout("10 seconds"))
        for (const client of clients) expect(yield* codeOf(client)).toBe(1001)
        expect(server.connections()).toBe(0)
      }).pipe(Effect.scoped))

    it.live("a handler that returns without reading while the peer floods (reading paused): 1000, released", () =>
      Effect.gen(function*() {
        const go = yield* Deferred.make<void>()
        const server = yield* NodeServer.serve(base, () => Deferred.await(go))
        const client = yield* open(server.url)
        for (let i = 0; i < 100; i++) client.ws.send(new Uint8Array(64 * 1024))
        yield* Effect.promise(() => new Promise<void>((resolve) => client.ws.send(new Uint8Array(1), () => resolve())))
        yield* Deferred.succeed(go, undefined)
        expect(yield* codeOf(client)).toBe(1000)
        yield* eventually(() => server.connections() === 0, "released")
      }).pipe(Effect.scoped))

    it.live("maxConnections refusal: 1013, and the slot frees after the first closes", () =>
      Effect.gen(function*() {
        const server = yield* NodeServer.serve({ ...base, maxConnections: 1 }, (channel) => Effect.asVoid(channel.read.pipe((s) => s, () => channel.closed)))
        const first = yield* open(server.url)
        yield* eventually(() => server.connections() === 1, "one")
        const second = yield* open(server.url)
        expect(yield* codeOf(second)).toBe(1013)
        first.ws.close(1000)
        yield* codeOf(first)
        yield* eventually(() => server.connections() === 0, "released")
        const third = yield* open(server.url)
        third.ws.close(1000)
        expect(yield* codeOf(third)).toBe(1000)
      }).pipe(Effect.scoped))
  })
}

/**
 * The examples unchanged on Bun and Deno: examples/runtimes/{echo,chat}-{bun,deno}.ts (the same
 * `program` and `serveChat` as on Node, given that runtime's `Server` layer and core's
 * `WebSocketConnector`) run in a child process of that runtime, from the sources (Bun with
 * peers/tsconfig.json's `paths`, Deno with peers/import_map.json), and Node talks to them with
 * `NodeConnector`: the echo, the chat client, and the Python peer (python3-websockets).
 */
import { NodeConnector } from "@bytechannel/node"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { fileURLToPath } from "node:url"
import { watch } from "../../packages/core/test/utils.js"
import { connectChat } from "../chat/client.js"
import type { ServerMessage } from "../chat/protocol.js"
import { echo } from "../echo.js"

const root = fileURLToPath(new URL("../../", import.meta.url))
const examples = `${root}examples/`
const DEADLINE_MILLIS = 60_000
const PYTHON = "/usr/bin/python3"

/** The runtime's binary: the root devDependency (`pnpm install` puts it in .bin), else from the registry. */
const binary = (name: "bun" | "deno", version: string): ReadonlyArray<string> => {
  const local = `${root}node_modules/.bin/${name}`
  return existsSync(local) ? [local] : ["npx", "-y", `${name}@${version}`]
}

const RUNTIMES = {
  bun: (entry: string, args: ReadonlyArray<string>) => [
    ...binary("bun", "1.4.5"),
    "--tsconfig-override",
    `${examples}test/peers/tsconfig.json`,
    entry,
    ...args
  ],
  deno: (entry: string, args: ReadonlyArray<string>) => [
    ...binary("deno", "2.9.6"),
    "run",
    "-A",
    "--import-map",
    `${examples}test/peers/import_map.json`,
    // `../echo.js` is `../echo.ts` in the sources (tsc's convention), as Bun and Vite resolve it.
    "--unstable-sloppy-imports",
    entry,
    ...args
  ]
} as const

type Runtime = keyof typeof RUNTIMES

/** A child process whose stdout lines are watched; killed (and waited for) with the scope. */
const child = (command: ReadonlyArray<string>) =>
  Effect.gen(function*() {
    const lines = watch<string>(DEADLINE_MILLIS)
    let stderr = ""
    const process = yield* Effect.acquireRelease(
      Effect.sync(() => {
        // A process group of its own: the runtime's launcher (deno's is a Node script) and what it
        // started are killed together.
        const process = spawn(command[0]!, command.slice(1), { cwd: root, stdio: ["ignore", "pipe", "pipe"], detached: true })
        let buffered = ""
        process.stdout.setEncoding("utf8").on("data", (text: string) => {
          buffered += text
          for (let nl = buffered.indexOf("\n"); nl !== -1; nl = buffered.indexOf("\n")) {
            lines.push(buffered.slice(0, nl))
            buffered = buffered.slice(nl + 1)
          }
        })
        process.stderr.setEncoding("utf8").on("data", (text: string) => (stderr += text))
        process.on("exit", (code, signal) => lines.push(`exited ${code ?? signal}`))
        return process
      }),
      (process) =>
        Effect.callback<void>((resume) => {
          const exited = process.exitCode !== null || process.signalCode !== null
          if (!exited) process.once("exit", () => resume(Effect.void))
          try {
            globalThis.process.kill(-process.pid!, "SIGKILL")
          } catch {
            // the group is gone already
          }
          if (exited) resume(Effect.void)
        })
    )
    /** The first line matching `pattern` (failing, with what the process said, if it exited first). */
    const line = (pattern: RegExp, what: string) =>
      Effect.gen(function*() {
        yield* lines.until((items) => items.some((l) => pattern.test(l) || l.startsWith("exited")), what)
        const found = lines.items.find((l) => pattern.test(l))
        if (found === undefined) return yield* Effect.die(new Error(`${what}: the process exited\n${lines.items.join("\n")}\n${stderr}`))
        return pattern.exec(found)!
      })
    return { process, lines, line }
  })

/** What the Python peer (python3-websockets) gets back from an echo of `count` binary messages. */
const pythonEcho = (url: string, count: number) =>
  Effect.gen(function*() {
    const script = [
      "import asyncio, sys, websockets",
      "async def main():",
      "    async with websockets.connect(sys.argv[1], max_size=None) as ws:",
      `        sent = [bytes((i * 7 + j) & 255 for j in range(i * 100)) for i in range(${count})]`,
      "        for m in sent: await ws.send(m)",
      "        got, total = [], sum(len(m) for m in sent)",
      "        while sum(len(m) for m in got) < total: got.append(await ws.recv())",
      "        await ws.close(1000, 'done')",
      "        print('python: echoed' if b''.join(got) == b''.join(sent) else 'python: different bytes')",
      "asyncio.run(main())"
    ].join("\n")
    const peer = yield* child([PYTHON, "-c", script, url])
    return (yield* peer.line(/^python: .*$/, "the Python peer's verdict"))[0]
  })

const runtimes: ReadonlyArray<Runtime> = ["bun", "deno"]

for (const runtime of runtimes) {
  describe(`examples on ${runtime}`, () => {
    it.live("echo: the same program runs there (server and WebSocketConnector client); Node's NodeConnector and the Python peer get their echo", () =>
      Effect.gen(function*() {
        const server = yield* child(RUNTIMES[runtime](`${examples}runtimes/echo-${runtime}.ts`, ["--serve"]))
        // The program's own two echoes, on that runtime: in memory, then through its server and client.
        const memory = yield* server.line(/^memory {3}: (.*)$/, "the in-memory echo")
        expect(memory[1]).toBe(`echoed "hello, byte channel", closed with 1000 "done" (clean: true)`)
        const own = yield* server.line(/^(ws:\/\/127\.0\.0\.1:\d+\/echo): (.*)$/, `${runtime}'s own echo`)
        expect(own[2]).toBe(`echoed "hello, byte channel", closed with 1000 "done" (clean: true)`)
        const url = own[1]!
        yield* server.line(/serving ws:/, "the server to keep serving")
        // Node's client against that runtime's server.
        const fromNode = yield* echo(url).pipe(Effect.provide(NodeConnector.layer))
        expect(fromNode.echoed).toBe("hello, byte channel")
        expect(fromNode.info).toMatchObject({ code: 1000, reason: "done", wasClean: true })
        expect(yield* pythonEcho(url, 50)).toBe("python: echoed")
      }).pipe(Effect.scoped), 120_000)

    it.live("chat: serveChat runs there; two Node chat clients get each other's messages, in order", () =>
      Effect.gen(function*() {
        const server = yield* child(RUNTIMES[runtime](`${examples}runtimes/chat-${runtime}.ts`, ["--port", "0"]))
        const [, url, name] = yield* server.line(/^chat: serving (ws:\/\/127\.0\.0\.1:\d+\/chat) on \w+ \(server (.+)\)$/, "the chat to listen")
        const join = (who: string) =>
          Effect.gen(function*() {
            const got = watch<ServerMessage>(DEADLINE_MILLIS)
            const chat = yield* connectChat([url!])
            yield* Effect.forkScoped(Stream.runForEach(chat.messages, (message) => Effect.sync(() => got.push(message as ServerMessage))))
            yield* got.until((items) => items.some((m) => m._tag === "Welcome"), `${who}'s welcome`)
            return { got, say: (text: string) => chat.send({ _tag: "Say", from: who, text }) }
          })
        const ann = yield* join("ann")
        const bob = yield* join("bob")
        expect(ann.got.items.find((m) => m._tag === "Welcome")).toMatchObject({ server: name })
        for (let i = 0; i < 20; i++) yield* ann.say(`ann ${i}`)
        yield* bob.say("bob 0")
        for (const who of [ann, bob]) {
          yield* who.got.until((items) => items.filter((m) => m._tag === "Said").length === 21, "every message said")
          const said = who.got.items.flatMap((m) => (m._tag === "Said" ? [`${m.from}: ${m.text}`] : []))
          expect(said.filter((s) => s.startsWith("ann"))).toEqual(Array.from({ length: 20 }, (_, i) => `ann: ann ${i}`))
          expect(said).toContain("bob: bob 0")
        }
      }).pipe(Effect.scoped, Effect.provide(NodeConnector.layer)), 120_000)
  })
}

// BunServer with peers from other implementations and runtimes: the Python `websockets` client
// (Debian's python3-websockets) and our own Node client (NodeConnector over `ws`, in Node 22).
import { describe, expect, it } from "@effect/vitest"
import { ByteChannel, Codec } from "@bytechannel/core"
import { BunServer } from "@bytechannel/bun"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Stream from "effect/Stream"
import { spawn } from "node:child_process"
import { fileURLToPath, pathToFileURL } from "node:url"
import { NODE } from "../../core/test/contract/remote/globalSetup.js"

// Debian's python3 with python3-websockets, as scripts/setup.sh installs it (not a pyenv shim).
const PYTHON = "/usr/bin/python3"
const PYTHON_PEER = fileURLToPath(new URL("../../node/test/peers/python_peer.py", import.meta.url))
const PEERS = fileURLToPath(new URL("./peers/", import.meta.url))
const TSX = pathToFileURL(fileURLToPath(new URL("../../../node_modules/tsx/dist/loader.mjs", import.meta.url))).href
const COUNT = 300
const framePayload = (i: number) => Uint8Array.from({ length: (i * 7919) % 3000 }, (_, j) => (i * 7 + j) & 0xff)

/** Runs a child to its end (killed with the scope): its stdout lines and exit code. */
const run = (command: string, args: ReadonlyArray<string>, env?: Record<string, string>) =>
  Effect.acquireUseRelease(
    Effect.sync(() => spawn(command, args, { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, ...env } })),
    (child) =>
      Effect.callback<{ readonly lines: ReadonlyArray<string>; readonly code: number | null }>((resume) => {
        let out = ""
        child.stdout!.setEncoding("utf8").on("data", (text: string) => (out += text))
        child.once("exit", (code) => resume(Effect.succeed({ lines: out.split("\n").filter((l) => l !== ""), code })))
      }),
    (child) => Effect.sync(() => child.kill("SIGKILL"))
  ).pipe(Effect.timeoutOrElse({ duration: "20 seconds", orElse: () => Effect.fail(new Error(`${command} did not finish`)) }))

describe("BunServer interop", () => {
  it.live("Python websockets client: its frames arrive split at random with text mixed in; our close 4001 \"done\" is seen there", () =>
    Effect.gen(function*() {
      const received = yield* Deferred.make<ReadonlyArray<Uint8Array>>()
      const server = yield* BunServer.serve({ channel: { text: "ignore" } }, (channel) =>
        Effect.gen(function*() {
          const framed = ByteChannel.framed(channel, Codec.lengthDelimited())
          const frames = yield* framed.messages.pipe(Stream.take(COUNT), Stream.runCollect)
          yield* Deferred.succeed(received, frames)
          yield* channel.close({ code: 4001, reason: "done" })
        }))
      const python = yield* run(PYTHON, [PYTHON_PEER, "client", server.url])
      const frames = yield* Deferred.await(received)
      expect(frames.length).toBe(COUNT)
      frames.forEach((frame, i) => expect(Buffer.from(frame).equals(Buffer.from(framePayload(i))), `frame ${i}`).toBe(true))
      expect(python.code).toBe(0)
      expect(JSON.parse(python.lines[0] ?? "null")).toEqual({ code: 4001, reason: "done" })
    }))

  it.live("Node client (NodeConnector over ws, in Node 22): 2,000 messages echoed byte-identical; its close 4001 reaches the handler", () =>
    Effect.gen(function*() {
      const closed = yield* Deferred.make<unknown>()
      const server = yield* BunServer.serve({}, (channel) =>
        Effect.andThen(
          Stream.run(channel.read, channel.write).pipe(Effect.ignore),
          Effect.flatMap(channel.closed, (info) => Deferred.succeed(closed, info))
        ))
      const node = yield* run(NODE, ["--import", TSX, `${PEERS}node-client.ts`, server.url, "2000"], {
        TSX_TSCONFIG_PATH: `${PEERS}tsconfig.json`
      })
      expect(node.code).toBe(0)
      const result = JSON.parse(node.lines[0] ?? "null")
      expect(result).toMatchObject({ identical: true, close: { code: 4001, reason: "done", local: true } })
      expect(result.echoed).toBeGreaterThan(0)
      expect(yield* Deferred.await(closed)).toMatchObject({ code: 4001, reason: "done", local: false })
    }))
})

/**
 * A file over WebSocket as length-delimited frames, with backpressure both ways and a progress
 * bar: a header frame (JSON: name and size), the file in 64 KiB frames, an empty frame to end;
 * the receiver answers with the SHA-256 of what it wrote.
 *
 * Run: `node examples/dist/file-transfer.js [file]` (default: a 32 MiB file of random bytes).
 */
import { ByteChannel, Codec } from "@bytechannel/core"
import { NodeConnector, NodeServer } from "@bytechannel/node"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import { createHash, randomBytes } from "node:crypto"
import { createReadStream, createWriteStream, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { basename, join } from "node:path"
import { pathToFileURL } from "node:url"

const frames = Codec.lengthDelimited({ maxFrameLength: 1024 * 1024 })
const encoder = new TextEncoder()
const decoder = new TextDecoder()

/** Receives one file per connection into `directory`; answers with its SHA-256 (hex). */
export const receiveFiles = (directory: string) => (channel: ByteChannel.ByteChannel) =>
  Effect.gen(function*() {
    const framed = ByteChannel.framed(channel, frames)
    const header = Option.getOrThrow(yield* framed.next)
    const { name } = JSON.parse(decoder.decode(header)) as { name: string; size: number }
    const out = createWriteStream(join(directory, basename(name)))
    const hash = createHash("sha256")
    while (true) {
      const next = yield* framed.next
      if (Option.isNone(next) || next.value.length === 0) break
      hash.update(next.value)
      // Waiting for the disk is backpressure too: the socket is not read meanwhile.
      if (!out.write(next.value)) yield* Effect.callback<void>((resume) => void out.once("drain", () => resume(Effect.void)))
    }
    yield* Effect.callback<void>((resume) => void out.end(() => resume(Effect.void)))
    yield* framed.send(encoder.encode(hash.digest("hex")))
  })

/** Sends `path` to `url`; calls `progress` with bytes sent so far; returns the receiver's SHA-256. */
export const sendFile = (url: string, path: string, progress: (sent: number, size: number) => void) =>
  Effect.gen(function*() {
    const size = statSync(path).size
    const framed = ByteChannel.framed(yield* ByteChannel.connect(url), frames)
    yield* framed.send(encoder.encode(JSON.stringify({ name: basename(path), size })))
    let sent = 0
    yield* Stream.fromAsyncIterable(createReadStream(path, { highWaterMark: 64 * 1024 }), (error) => error).pipe(
      Stream.map((chunk) => new Uint8Array(chunk as Buffer)),
      Stream.tap((chunk) => Effect.sync(() => progress((sent += chunk.length), size))),
      Stream.run(framed.sink)
    )
    yield* framed.send(new Uint8Array(0))
    return decoder.decode(Option.getOrThrow(yield* framed.next))
  }).pipe(Effect.scoped)

const bar = (sent: number, size: number) => {
  const width = 30
  const done = size === 0 ? width : Math.round((sent / size) * width)
  return `[${"#".repeat(done)}${" ".repeat(width - done)}] ${(sent / 1048576).toFixed(1)}/${(size / 1048576).toFixed(1)} MiB`
}

export const main = (file?: string) =>
  Effect.gen(function*() {
    // The receiver writes into its own directory: never over the file being sent.
    const inbox = mkdtempSync(join(tmpdir(), "bytechannel-received-"))
    const path = file ?? join(mkdtempSync(join(tmpdir(), "bytechannel-sent-")), "random.bin")
    if (file === undefined) writeFileSync(path, randomBytes(32 * 1024 * 1024))
    const server = yield* NodeServer.serve({ path: "/files" }, receiveFiles(inbox))
    const expected = createHash("sha256").update(readFileSync(path)).digest("hex")
    let shown = -1
    const remote = yield* sendFile(server.url, path, (sent, size) => {
      const percent = size === 0 ? 100 : Math.floor((sent / size) * 100)
      if (percent !== shown) process.stderr.write(`\r${bar(sent, size)}`)
      shown = percent
    })
    process.stderr.write("\n")
    console.log(`sent ${basename(path)}: sha256 ${remote} ${remote === expected ? "(matches)" : `(expected ${expected})`}`)
    return { remote, expected }
  }).pipe(Effect.scoped, Effect.provide(NodeConnector.layer))

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  Effect.runPromise(main(process.argv[2])).then(
    ({ remote, expected }) => process.exit(remote === expected ? 0 : 1),
    (error) => {
      console.error(error)
      process.exit(1)
    }
  )
}

// A Node 22 child process with our Node client (NodeConnector over `ws`): connects to URL, sends
// COUNT messages of 0..4 KiB, reads them back from an echo server, closes with 4001 "done", and
// prints one JSON line: { echoed, identical, close }. With COUNT "forever" it sends and reads
// until it is killed.
import { ByteChannel } from "@bytechannel/core"
import { NodeConnector } from "@bytechannel/node"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

const [url, count] = [process.argv[2]!, process.argv[3] === "forever" ? -1 : Number(process.argv[3])]
const message = (i: number) => Uint8Array.from({ length: (i * 7919) % 4096 }, (_, j) => (i * 7 + j) & 0xff)

const forever = Effect.gen(function*() {
  const channel = yield* ByteChannel.connect(url)
  yield* Effect.forkChild(Effect.forever(channel.readChunk()))
  for (let i = 0; ; i++) yield* channel.send(message(i % 1000))
}).pipe(Effect.scoped, Effect.provide(NodeConnector.layer))

const program = Effect.gen(function*() {
  const channel = yield* ByteChannel.connect(url)
  const messages = Array.from({ length: count }, (_, i) => message(i))
  const total = messages.reduce((sum, m) => sum + m.length, 0)
  yield* Effect.forkChild(Effect.forEach(messages, (m) => channel.send(m), { discard: true }))
  const back: Array<Uint8Array> = []
  let bytes = 0
  while (bytes < total) {
    const chunk = yield* channel.readChunk()
    if (Option.isNone(chunk)) break
    back.push(chunk.value)
    bytes += chunk.value.length
  }
  const sent = Buffer.concat(messages)
  const got = Buffer.concat(back)
  const close = yield* channel.close({ code: 4001, reason: "done" })
  return { echoed: got.length, identical: sent.equals(got), close }
}).pipe(Effect.scoped, Effect.provide(NodeConnector.layer))

Effect.runPromise(count === -1 ? Effect.as(forever, {}) : program).then(
  (result) => {
    process.stdout.write(`${JSON.stringify(result)}\n`)
    process.exit(0)
  },
  (error) => {
    process.stderr.write(`${String(error)}\n`)
    process.exit(1)
  }
)

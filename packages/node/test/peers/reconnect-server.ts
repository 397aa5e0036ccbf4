// Child process for the reconnection tests: a NodeServer on PORT (0: any) that prints
// "port N" once listening and "got N" for every NDJSON message {"n": N} it receives.
import { ByteChannel, Codec } from "@bytechannel/core"
import { NodeServer } from "@bytechannel/node"
import * as Effect from "effect/Effect"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"

const Numbered = Schema.Struct({ n: Schema.Number })
const port = Number(process.argv[2] ?? 0)

const program = Effect.gen(function*() {
  const server = yield* NodeServer.serve({ port }, (channel) =>
    ByteChannel.framed(channel, Codec.ndjson(Numbered)).messages.pipe(
      Stream.runForEach(({ n }) => Effect.sync(() => process.stdout.write(`got ${n}\n`)))
    ))
  console.log(`port ${server.port}`)
  return yield* Effect.never
}).pipe(Effect.scoped)

Effect.runPromise(program).catch((error) => {
  console.error(error)
  process.exit(1)
})

#!/usr/bin/env node
/**
 * The `bytechannel` executable: `bytechannel connect URL` and `bytechannel serve`, see `--help`.
 *
 * The first SIGINT (Ctrl-C) or SIGTERM closes cleanly (a client's connection with 1000, a
 * server's with 1001) and exits with 130 or 143; a second one exits at once.
 *
 * @since 0.1.0
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import { main } from "./internal/command.js"
import * as constants from "./internal/constants.js"
import type { Signal } from "./internal/outcome.js"

const signals = Effect.runSync(Deferred.make<Signal>())
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (Effect.runSync(Deferred.isDone(signals))) process.exit(constants.EXIT_SIGNAL[signal])
    Effect.runSync(Deferred.succeed(signals, signal))
  })
}

/** Exits once stdout and stderr have handed everything written to the system (pipes may be asynchronous). */
const exit = (status: number) => {
  let pending = 2
  const done = () => {
    if (--pending === 0) process.exit(status)
  }
  process.stdout.write("", done)
  process.stderr.write("", done)
}

Effect.runPromise(main(process.argv, Deferred.await(signals))).then(exit, (error) => {
  process.stderr.write(`${constants.NAME}: ${String(error)}\n`)
  exit(constants.EXIT_FAILURE)
})

#!/usr/bin/env node
/**
 * The `bytechannel` executable: `bytechannel connect URL` and `bytechannel serve`, see `--help`.
 *
 * The first SIGINT (Ctrl-C) or SIGTERM closes cleanly (a client's connection with 1000, a
 * server's with 1001) and exits with 130 or 143; a second one exits at once. (Not
 * `NodeRuntime.runMain`, which interrupts the program at the first signal: here the signal is
 * an event the program answers, with the close it chooses and the reason it gives.)
 *
 * @since 0.1.0
 */
import * as Cause from "effect/Cause"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { main } from "./internal/command.js"
import * as constants from "./internal/constants.js"
import type { Signal } from "./internal/outcome.js"

const signals = Deferred.makeUnsafe<Signal>()
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    if (!Deferred.doneUnsafe(signals, Exit.succeed(signal))) process.exit(constants.EXIT_SIGNAL[signal])
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

Effect.runFork(main(process.argv.slice(2), Deferred.await(signals))).addObserver((result) => {
  if (Exit.isSuccess(result)) return exit(result.value)
  process.stderr.write(`${constants.NAME}: ${Cause.pretty(result.cause)}\n`)
  exit(constants.EXIT_FAILURE)
})

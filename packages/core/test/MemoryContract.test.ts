// The transport contract (test/contract/suite.ts) on the memory pair, under TestClock.
import * as MemorySocket from "@bytechannel/core/MemorySocket"
import * as MessageSocket from "@bytechannel/core/MessageSocket"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Scope from "effect/Scope"
import { socketPeer } from "./contract/socketPeer.js"
import { transportContract } from "./contract/suite.js"

transportContract("memory", {
  clock: "test",
  peerCanHang: true,
  capabilities: { messages: true, receiveOverflow: "pause", sendBackpressure: true, protocolCodesOnWire: "as-is" },
  connect: (bounds) =>
    Effect.gen(function*() {
      // The memory pair's one bound is its per-direction capacity, in messages.
      const [subject, other] = yield* MemorySocket.makePair({
        capacity: bounds.receiveHighWaterMessages,
        closeTimeout: bounds.closeTimeout
      })
      const subjectScope = yield* Scope.fork(yield* Effect.scope, "sequential")
      yield* MessageSocket.closeOnScopeClose(subject).pipe(Scope.provide(subjectScope))
      yield* MessageSocket.closeOnScopeClose(other)
      const peer = yield* socketPeer(other, { hang: other.ignoreCloseFrames })
      return { subject, peer, release: Scope.close(subjectScope, Exit.void) }
    })
})

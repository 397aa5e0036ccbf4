// The transport contract (core's test/contract/suite.ts) on the effect/socket adapter: an
// effect/http route upgrading with EffectSocket.upgrade, against a plain `ws` client. Nothing is
// left out: the close reason and a lost connection (1006) come through, and reading pauses.
import { transportContract } from "../../core/test/contract/suite.js"
import { EFFECT_SOCKET, effectSocketToRawClient } from "./contract/transports.js"

transportContract("EffectSocket.upgrade ↔ plain ws client", {
  clock: "live",
  capabilities: EFFECT_SOCKET,
  peerCanHang: true,
  connect: effectSocketToRawClient
})

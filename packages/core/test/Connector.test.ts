import * as Connector from "@bytechannel/core/Connector"
import { describe, expect, it } from "@effect/vitest"

describe("Connector", () => {
  it("protocolList: none, one or several subprotocols as a list (a copy, never the caller's array)", () => {
    expect(Connector.protocolList(undefined)).toEqual([])
    expect(Connector.protocolList("chat.v1")).toEqual(["chat.v1"])
    expect(Connector.protocolList("")).toEqual([""])
    const several = ["chat.v2", "chat.v1"] as const
    const list = Connector.protocolList(several)
    expect(list).toEqual(["chat.v2", "chat.v1"])
    expect(list).not.toBe(several)
  })
})

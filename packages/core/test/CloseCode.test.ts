import * as CloseCode from "@bytechannel/core/CloseCode"
import { describe, expect, it } from "@effect/vitest"

const utf8Length = (s: string) => new TextEncoder().encode(s).length

describe("CloseCode", () => {
  it("application codes are 1000 and 3000-4999", () => {
    const accepted = [999, 1000, 1001, 2999, 3000, 4999, 5000, 3000.5].filter(CloseCode.isApplicationCode)
    expect(accepted).toEqual([1000, 3000, 4999])
  })

  it("sendable codes add 1001-1003 and 1007-1014; 1004, 1005, 1006 and 1015 never go on the wire", () => {
    const all = Array.from({ length: 20 }, (_, i) => 999 + i)
    expect(all.filter(CloseCode.isSendable)).toEqual([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014])
    expect([3000, 4999, 5000].filter(CloseCode.isSendable)).toEqual([3000, 4999])
  })

  it("a reason is cut to 123 UTF-8 bytes, never inside a character", () => {
    expect(CloseCode.truncateReason("short")).toBe("short")
    for (const unit of ["é", "€", "😀", "a"]) {
      const cut = CloseCode.truncateReason(unit.repeat(200))
      expect(utf8Length(cut)).toBeLessThanOrEqual(123)
      expect(utf8Length(cut)).toBeGreaterThan(123 - utf8Length(unit))
      expect(cut).toBe(unit.repeat(cut.length / unit.length))
    }
  })

  it("the browser wire: application codes unchanged; others as 1000 with the code in the reason, within 123 bytes", () => {
    expect(CloseCode.toBrowserWire(4000, "bye")).toEqual({ code: 4000, reason: "bye" })
    expect(CloseCode.toBrowserWire(1009, "receive buffer full")).toEqual({ code: 1000, reason: "1009: receive buffer full" })
    expect(CloseCode.toBrowserWire(1001, "")).toEqual({ code: 1000, reason: "1001" })
    const long = CloseCode.toBrowserWire(1011, "é".repeat(120))
    expect(long.code).toBe(1000)
    expect(utf8Length(long.reason)).toBeLessThanOrEqual(123)
  })
})

/**
 * A `Schema` as the plain checks of the JSON codecs (`ValueSchema`), built once per codec.
 *
 * @internal
 */
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import type * as Schema from "effect/Schema"
import type { Rejection, ValueSchema } from "./codec/json.js"

/** A RangeError is what V8 throws when the stack overflows (on a value nested deep enough). */
const isStackOverflow = (cause: unknown) => cause instanceof RangeError

/**
 * The parse issue as text. Printing it recurses into the value, which for one nested thousands
 * deep overflows the stack; the summary then says so instead.
 */
const formatIssue = (issue: ParseResult.ParseIssue): string => {
  try {
    return ParseResult.TreeFormatter.formatIssueSync(issue)
  } catch (cause) {
    if (!isStackOverflow(cause)) throw cause
    return `${"ast" in issue ? `Expected ${String(issue.ast)}, got ` : ""}a value nested too deeply to print`
  }
}

const rejection = (issue: ParseResult.ParseIssue): Rejection => ({ ok: false, detail: formatIssue(issue), cause: issue })

/** `schema`'s checks for the JSON codecs. @internal */
export const valueSchema = <A, I>(schema: Schema.Schema<A, I, never>): ValueSchema<A> => {
  const decodeFull = ParseResult.decodeUnknownEither(schema)
  const encodeFull = ParseResult.encodeUnknownEither(schema)
  return {
    decode: (json, out) => {
      try {
        const result = decodeFull(json)
        if (Either.isLeft(result)) return rejection(result.left)
        out.push(result.right)
        return undefined
      } catch (cause) {
        // A recursive schema checking a value nested deeper than the stack; anything else is a bug.
        if (!isStackOverflow(cause)) throw cause
        return { ok: false, detail: "the value is nested too deeply to check", cause }
      }
    },
    encode: (value) => {
      const result = encodeFull(value)
      return Either.isLeft(result) ? rejection(result.left) : { ok: true, json: result.right }
    }
  }
}

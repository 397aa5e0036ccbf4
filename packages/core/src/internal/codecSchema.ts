/**
 * A `Schema` as the plain checks of the JSON codecs (`ValueSchema`), built once per codec.
 *
 * `ParseResult` costs about as much per message as `JSON.parse` itself (an `Either` per field, an
 * options object walked at every node), so the common shapes of JSON messages take a fast path
 * compiled from the schema's AST once: structs of required or optional properties, arrays and
 * tuples, strings, numbers, booleans, literals, unions of those that give back their input, and
 * `Unknown` (no call at all). Anything else in the tree (a refinement, a transformation, a
 * recursive schema, annotations that change parsing) is checked by `ParseResult` at that node.
 *
 * The fast path only ever answers "this value, exactly as `ParseResult` gives it" or "not sure":
 * on "not sure" (a missing key, a wrong type, any failure) the whole value goes through
 * `ParseResult`, so every error and every edge case (a missing key that the type accepts as
 * `undefined`, excess properties) is `ParseResult`'s own.
 *
 * @internal
 */
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"
import * as AST from "effect/SchemaAST"
import type { Rejection, ValueSchema } from "./codec/json.js"

/** "Not sure": the fast path hands the value to `ParseResult`. */
const MISS: unique symbol = Symbol("@bytechannel/core/Codec/miss")

/** A fast check: the value `ParseResult` would give for `u`, or `MISS`. */
type Fast = (u: unknown) => unknown

interface Compiled {
  readonly fast: Fast
  /** What it gives back on success is its input (so a union of these is one too). */
  readonly identity: boolean
  /** It accepts everything and gives it back (`Unknown`, `Any`): nothing to call. */
  readonly always: boolean
  /** It is `ParseResult` at this node. */
  readonly delegated: boolean
  /** For a struct's loop to check inline: a `typeof` that is the whole check, or `undefined`. */
  readonly typeOf?: "string" | "number" | "boolean" | undefined
}

const hasOwn = Object.prototype.hasOwnProperty

const identityOf = (fast: Fast): Compiled => ({ fast, identity: true, always: false, delegated: false })
const always: Compiled = { fast: (u) => u, identity: true, always: true, delegated: false }
const producing = (fast: Fast): Compiled => ({ fast, identity: false, always: false, delegated: false })

/** `ParseResult` itself at this node (a refinement, a transformation, ...). */
const delegate = (ast: AST.AST, isDecoding: boolean): Compiled => {
  const schema = Schema.make(ast)
  const parse = isDecoding ? ParseResult.decodeUnknownEither(schema) : ParseResult.encodeUnknownEither(schema)
  return {
    fast: (u) => {
      const result = parse(u)
      return Either.isRight(result) ? result.right : MISS
    },
    identity: false,
    always: false,
    delegated: true
  }
}

/** Annotations that make `ParseResult` parse a node differently from its shape. */
const changesParsing = (ast: AST.AST, isDecoding: boolean) =>
  AST.ParseOptionsAnnotationId in ast.annotations || (isDecoding && AST.DecodingFallbackAnnotationId in ast.annotations)

const compile = (ast: AST.AST, isDecoding: boolean): Compiled => {
  if (changesParsing(ast, isDecoding)) return delegate(ast, isDecoding)
  switch (ast._tag) {
    case "UnknownKeyword":
    case "AnyKeyword":
      return always
    case "StringKeyword":
      return { ...identityOf((u) => (typeof u === "string" ? u : MISS)), typeOf: "string" }
    case "NumberKeyword":
      return { ...identityOf((u) => (typeof u === "number" ? u : MISS)), typeOf: "number" }
    case "BooleanKeyword":
      return { ...identityOf((u) => (typeof u === "boolean" ? u : MISS)), typeOf: "boolean" }
    case "UndefinedKeyword":
      return identityOf((u) => (u === undefined ? u : MISS))
    case "Literal": {
      const literal = ast.literal
      return identityOf((u) => (u === literal ? u : MISS))
    }
    case "Union": {
      // Only a union whose every member gives back its input: then which member matched does
      // not change the result (ParseResult may try them in another order).
      const members = ast.types.map((member) => compile(member, isDecoding))
      if (!members.every((member) => member.identity)) return delegate(ast, isDecoding)
      if (members.some((member) => member.always)) return always
      const checks = members.map((member) => member.fast)
      return identityOf((u) => {
        for (let i = 0; i < checks.length; i++) if (checks[i]!(u) !== MISS) return u
        return MISS
      })
    }
    case "TypeLiteral":
      return compileStruct(ast, isDecoding)
    case "TupleType":
      return compileTuple(ast, isDecoding)
    default:
      return delegate(ast, isDecoding)
  }
}

const OTHER = 0
const STRING = 1
const NUMBER = 2
const BOOLEAN = 3

/** ParseResult's TypeLiteral without options: the declared properties, in order, into a new object. */
const compileStruct = (ast: AST.TypeLiteral, isDecoding: boolean): Compiled => {
  if (ast.indexSignatures.length > 0) return delegate(ast, isDecoding)
  if (ast.propertySignatures.length === 0) return identityOf((u) => (u === null || u === undefined ? MISS : u))
  if (ast.propertySignatures.some((ps) => typeof ps.name !== "string")) return delegate(ast, isDecoding)
  const names = ast.propertySignatures.map((ps) => ps.name as string)
  const optional = ast.propertySignatures.map((ps) => ps.isOptional)
  const compiled = ast.propertySignatures.map((ps) => compile(ps.type, isDecoding))
  const checks = compiled.map((property) => property.fast)
  // The primitive properties are checked inline in the loop below: a call per property would
  // box a number read from a parsed object (a heap number each), which costs more than the check.
  const kinds = compiled.map((property) =>
    property.typeOf === "string" ? STRING : property.typeOf === "number" ? NUMBER : property.typeOf === "boolean" ? BOOLEAN : OTHER
  )
  const count = names.length
  return producing((input) => {
    if (typeof input !== "object" || input === null || Array.isArray(input)) return MISS
    if (isDecoding && Object.getPrototypeOf(input) === Object.prototype) {
      // A parsed JSON object with exactly the declared keys, in their order (what a peer written
      // against the same schema sends): if every value comes back as it is, the object does too,
      // indistinguishable from ParseResult's copy (same keys, order, values and prototype), and
      // no one else holds it. Decoding only: an encoded value is the caller's, and JSON.stringify
      // would read its getters again.
      // (A `for in` reads the values through V8's enum cache: as cheap as `JSON.parse` made them.)
      let i = 0
      let same = true
      for (const key in input) {
        if (i === count || key !== names[i]) {
          same = false
          break
        }
        const value = (input as Record<string, unknown>)[key]
        const kind = kinds[i]
        if (kind === STRING) {
          if (typeof value !== "string") return MISS
        } else if (kind === NUMBER) {
          if (typeof value !== "number") return MISS
        } else if (kind === BOOLEAN) {
          if (typeof value !== "boolean") return MISS
        } else {
          const checked = checks[i]!(value)
          if (checked === MISS) return MISS
          if (checked !== value) {
            same = false
            break
          }
        }
        i++
      }
      if (same && i === count) return input
    }
    const output: Record<string, unknown> = {}
    for (let i = 0; i < count; i++) {
      const name = names[i]!
      if (!hasOwn.call(input, name)) {
        if (optional[i]) continue
        return MISS
      }
      const value = checks[i]!((input as Record<string, unknown>)[name])
      if (value === MISS) return MISS
      output[name] = value
    }
    return output
  })
}

/** ParseResult's TupleType without options: required elements, then at most one rest type, into a new array. */
const compileTuple = (ast: AST.TupleType, isDecoding: boolean): Compiled => {
  if (ast.rest.length > 1 || ast.elements.some((element) => element.isOptional)) return delegate(ast, isDecoding)
  const elements = ast.elements.map((element) => compile(element.type, isDecoding).fast)
  const rest = ast.rest.length === 1 ? compile(ast.rest[0]!.type, isDecoding).fast : undefined
  const fixed = elements.length
  return producing((input) => {
    if (!Array.isArray(input)) return MISS
    const length = input.length
    if (length < fixed || (rest === undefined && length > fixed)) return MISS
    const output: Array<unknown> = []
    for (let i = 0; i < fixed; i++) {
      const value = elements[i]!(input[i])
      if (value === MISS) return MISS
      output.push(value)
    }
    if (rest !== undefined) {
      for (let i = fixed; i < length; i++) {
        const value = rest(input[i])
        if (value === MISS) return MISS
        output.push(value)
      }
    }
    return output
  })
}

/** The fast path of `schema` in one direction, `undefined` when it is `ParseResult` at the root anyway. @internal */
export const compileFast = (ast: AST.AST, isDecoding: boolean): Compiled | undefined => {
  const compiled = compile(ast, isDecoding)
  return compiled.delegated ? undefined : compiled
}

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
  const fastDecode = compileFast(schema.ast, true)
  const fastEncode = compileFast(schema.ast, false)
  const decodeFast = fastDecode?.fast
  const encodeFast = fastEncode?.fast
  return {
    decode: fastDecode?.always ? undefined : (json, out) => {
      try {
        if (decodeFast !== undefined) {
          const value = decodeFast(json)
          if (value !== MISS) {
            out.push(value as A)
            return undefined
          }
        }
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
      if (encodeFast !== undefined) {
        const json = encodeFast(value)
        if (json !== MISS) return { ok: true, json }
      }
      const result = encodeFull(value)
      return Either.isLeft(result) ? rejection(result.left) : { ok: true, json: result.right }
    }
  }
}

/**
 * A `Schema` as the plain checks of the JSON codecs (`ValueSchema`), built once per codec.
 *
 * Schema's own parser costs about half of `JSON.parse` per message on Effect 4 (a 3-field struct:
 * ~155 ns of CPU against ~345 ns to parse its 74-byte line), so decoding takes a fast path compiled
 * from the schema's AST once (~40 ns for that struct): structs of required or optional properties,
 * arrays and tuples, strings, numbers, booleans, null, literals, unions of those that give back
 * their input, and `Unknown` (no call at all). Anything else in the tree (a check, a
 * transformation, a recursive schema, an index signature) is Schema's own parser at that node.
 * Measured for the port to Effect 4 (CPU time per message, 4.1.5, Node 22): ndjson decoding of
 * that struct ~430 ns against ~590 ns with `SchemaParser.decodeUnknownExit` alone (JSON.parse
 * itself ~340 ns), ~880 ns against ~1,320 ns for a nested struct with literals and an array.
 * Encoding gained at most ~10% (`JSON.stringify` dominates) on values that are the caller's (class
 * instances, getters), so it is Schema's encoder as it is.
 *
 * The fast path only ever answers "this value, exactly as Schema gives it" or "not sure": on "not
 * sure" (a missing key, a wrong type, any failure) the whole value goes through
 * `SchemaParser.decodeUnknownExit`, so every error and every edge case is Schema's own.
 *
 * @internal
 */
import * as Cause from "effect/Cause"
import * as Exit from "effect/Exit"
import * as Schema from "effect/Schema"
import * as SchemaAST from "effect/SchemaAST"
import * as SchemaIssue from "effect/SchemaIssue"
import * as SchemaParser from "effect/SchemaParser"
import type { Rejection, ValueSchema } from "./codec/json.js"

/** "Not sure": the fast path hands the value to Schema's parser. */
const MISS: unique symbol = Symbol("@bytechannel/core/Codec/miss")

/** A fast check: the value Schema would give for `u`, or `MISS`. */
type Fast = (u: unknown) => unknown

interface Compiled {
  readonly fast: Fast
  /** What it gives back on success is its input (so a union of these is one too). */
  readonly identity: boolean
  /** It accepts everything and gives it back (`Unknown`, `Any`): nothing to call. */
  readonly always: boolean
  /** It is Schema's parser at this node. */
  readonly delegated: boolean
  /** For a struct's loop to check inline: a `typeof` that is the whole check, or `undefined`. */
  readonly typeOf?: "string" | "number" | "boolean" | undefined
}

const hasOwn = Object.prototype.hasOwnProperty

const identityOf = (fast: Fast): Compiled => ({ fast, identity: true, always: false, delegated: false })
const always: Compiled = { fast: (u) => u, identity: true, always: true, delegated: false }
const producing = (fast: Fast): Compiled => ({ fast, identity: false, always: false, delegated: false })
const primitive = (typeOf: "string" | "number" | "boolean"): Compiled => ({
  ...identityOf((u) => (typeof u === typeOf ? u : MISS)),
  typeOf
})

/** Schema's parser at this node (a check, a transformation, a declaration, ...). */
const delegate = (ast: SchemaAST.AST): Compiled => {
  const parse = SchemaParser.decodeUnknownExit(Schema.make<Schema.Codec<unknown>>(ast))
  return {
    fast: (u) => {
      const exit = parse(u)
      return Exit.isSuccess(exit) ? exit.value : MISS
    },
    identity: false,
    always: false,
    delegated: true
  }
}

/** A node Schema parses by its shape alone: no checks, no encoding, no checks on the encoded side. */
const isPlain = (ast: SchemaAST.AST) =>
  ast.checks === undefined && ast.encoding === undefined &&
  (ast as { readonly encodingChecks?: unknown }).encodingChecks === undefined

const compile = (ast: SchemaAST.AST): Compiled => {
  if (!isPlain(ast)) return delegate(ast)
  switch (ast._tag) {
    case "Unknown":
    case "Any":
      return always
    case "String":
      return primitive("string")
    case "Number":
      return primitive("number")
    case "Boolean":
      return primitive("boolean")
    case "Null":
      return identityOf((u) => (u === null ? u : MISS))
    case "Undefined":
      return identityOf((u) => (u === undefined ? u : MISS))
    case "Literal": {
      // Schema gives back the literal, which is the input (`0` for `-0` too: `-0 === 0`, and
      // Schema then gives back the input as well).
      const literal = ast.literal
      return identityOf((u) => (u === literal ? u : MISS))
    }
    case "Union": {
      // Only an "anyOf" union whose every member gives back its input: then which member matched
      // does not change the result (Schema may try them in another order).
      if (ast.options?.mode === "oneOf") return delegate(ast)
      const members = ast.types.map(compile)
      if (!members.every((member) => member.identity)) return delegate(ast)
      if (members.some((member) => member.always)) return always
      const checks = members.map((member) => member.fast)
      return identityOf((u) => {
        for (let i = 0; i < checks.length; i++) if (checks[i]!(u) !== MISS) return u
        return MISS
      })
    }
    case "Objects":
      return compileStruct(ast)
    case "Arrays":
      return compileTuple(ast)
    default:
      return delegate(ast)
  }
}

const OTHER = 0
const STRING = 1
const NUMBER = 2
const BOOLEAN = 3

/**
 * Schema's `Objects` under the default parse options: the declared properties, in order, into a
 * new object (excess keys dropped).
 */
const compileStruct = (ast: SchemaAST.Objects): Compiled => {
  if (ast.indexSignatures.length > 0) return delegate(ast)
  // An empty struct accepts anything but null and undefined, and gives it back.
  if (ast.propertySignatures.length === 0) return identityOf((u) => (u === null || u === undefined ? MISS : u))
  // `__proto__` needs defineProperty in the copy below; other keys are plain string names.
  if (ast.propertySignatures.some((ps) => typeof ps.name !== "string" || ps.name === "__proto__")) return delegate(ast)
  const names = ast.propertySignatures.map((ps) => ps.name as string)
  const optional = ast.propertySignatures.map((ps) => SchemaAST.isOptional(ps.type))
  const compiled = ast.propertySignatures.map((ps) => compile(ps.type))
  const checks = compiled.map((property) => property.fast)
  // The primitive properties are checked inline in the loop below: a call per property would
  // box a number read from a parsed object (a heap number each), which costs more than the check.
  const kinds = compiled.map((property) =>
    property.typeOf === "string" ? STRING : property.typeOf === "number" ? NUMBER : property.typeOf === "boolean" ? BOOLEAN : OTHER
  )
  const count = names.length
  return producing((input) => {
    if (typeof input !== "object" || input === null || Array.isArray(input)) return MISS
    if (Object.getPrototypeOf(input) === Object.prototype) {
      // A parsed JSON object with exactly the declared keys, in their order (what a peer written
      // against the same schema sends): if every value comes back as it is, the object does too,
      // indistinguishable from Schema's copy (same keys, order, values and prototype), and no one
      // else holds it.
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
        // Schema reads an inherited property too (not on a parsed JSON object, but on any other): not sure.
        if (optional[i] && !(name in input)) continue
        return MISS
      }
      const value = checks[i]!((input as Record<string, unknown>)[name])
      if (value === MISS) return MISS
      output[name] = value
    }
    return output
  })
}

/**
 * Schema's `Arrays` with required elements and at most one rest type, into a new array; a parsed
 * JSON array whose every element comes back as it is is itself the answer (as for structs:
 * indistinguishable from Schema's copy, and no one else holds it).
 */
const compileTuple = (ast: SchemaAST.Arrays): Compiled => {
  if (ast.rest.length > 1 || ast.elements.some(SchemaAST.isOptional)) return delegate(ast)
  const elements = ast.elements.map((element) => compile(element).fast)
  const rest = ast.rest.length === 1 ? compile(ast.rest[0]!).fast : undefined
  const fixed = elements.length
  return producing((input) => {
    if (!Array.isArray(input)) return MISS
    const length = input.length
    if (length < fixed || (rest === undefined && length > fixed)) return MISS
    // The output is only built from the first element that does not come back as it is.
    let output: Array<unknown> | undefined = Object.getPrototypeOf(input) === Array.prototype ? undefined : []
    for (let i = 0; i < length; i++) {
      const item = input[i]
      const value = i < fixed ? elements[i]!(item) : rest!(item)
      if (value === MISS) return MISS
      if (output === undefined) {
        if (value === item) continue
        output = input.slice(0, i)
      }
      output.push(value)
    }
    return output ?? input
  })
}

/**
 * The fast path of decoding with `ast`, `undefined` when it would be Schema's parser at the root
 * anyway.
 *
 * @internal
 */
export const compileFast = (ast: SchemaAST.AST): Compiled | undefined => {
  const compiled = compile(ast)
  return compiled.delegated ? undefined : compiled
}

/** A RangeError is what V8 throws when the stack overflows (on a value nested deep enough). */
const isStackOverflow = (cause: unknown) => cause instanceof RangeError

/** Schema's own formatter: the text of a `SchemaError`'s message. */
const formatter = SchemaIssue.makeFormatterDefault()

/**
 * The schema issue as text. Printing it recurses into the value, which for one nested thousands
 * deep overflows the stack; the summary then says so instead.
 */
const formatIssue = (issue: SchemaIssue.Issue): string => {
  try {
    return formatter(issue)
  } catch (cause) {
    if (!isStackOverflow(cause)) throw cause
    return `${issue._tag}: a value nested too deeply to print`
  }
}

const tooDeep = (cause: unknown): Rejection => ({ ok: false, detail: "the value is nested too deeply to check", cause })

/**
 * What Schema's parser answered: the value, or why not (`cause` is the `SchemaIssue.Issue`). A
 * recursive schema checking a value nested deeper than the stack is a rejection too; any other
 * defect is a bug in the schema (a transformation that throws) and is thrown as it is.
 */
const outcome = <A>(exit: Exit.Exit<A, SchemaIssue.Issue>): { readonly ok: true; readonly value: A } | Rejection => {
  if (Exit.isSuccess(exit)) return { ok: true, value: exit.value }
  const reasons = exit.cause.reasons
  for (const reason of reasons) {
    if (Cause.isFailReason(reason)) return { ok: false, detail: formatIssue(reason.error), cause: reason.error }
  }
  for (const reason of reasons) {
    if (Cause.isDieReason(reason) && isStackOverflow(reason.defect)) return tooDeep(reason.defect)
  }
  throw Cause.squash(exit.cause)
}

/**
 * `schema`'s checks for the JSON codecs.
 *
 * @internal
 */
export const valueSchema = <A, I>(schema: Schema.Codec<A, I>): ValueSchema<A> => {
  const decodeFull = SchemaParser.decodeUnknownExit(schema)
  const encodeFull = SchemaParser.encodeUnknownExit(schema)
  const fastDecode = compileFast(schema.ast)
  const decodeFast = fastDecode?.always ? undefined : fastDecode?.fast
  // `Unknown` and `Any` give back every value in both directions: nothing to call.
  const encodeAll = fastDecode?.always === true
  // A stack overflow outside Schema's parser (in the fast path, or thrown through it) is a
  // rejection too. No closure per message: the try/catch is in each function itself.
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
        const result = outcome(decodeFull(json))
        if (!result.ok) return result
        out.push(result.value)
        return undefined
      } catch (cause) {
        if (!isStackOverflow(cause)) throw cause
        return tooDeep(cause)
      }
    },
    encode: (value) => {
      if (encodeAll) return { ok: true, json: value }
      try {
        const result = outcome(encodeFull(value))
        return result.ok ? { ok: true, json: result.value } : result
      } catch (cause) {
        if (!isStackOverflow(cause)) throw cause
        return tooDeep(cause)
      }
    }
  }
}

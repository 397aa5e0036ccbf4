/**
 * The span of each connection of one server, as `Effect.withSpan` would make it, without its
 * steps in the connection's fiber.
 *
 * @internal
 */
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import type * as Exit from "effect/Exit"
import { constUndefined } from "effect/Function"
import * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as References from "effect/References"
import * as Tracer from "effect/Tracer"

/** @internal */
export interface ConnectionSpans {
  /** A new connection's span, started now, and the context its fiber starts with (the span is its parent span). */
  readonly start: (attributes: Record<string, string>) => { readonly span: Tracer.Span; readonly context: Context.Context<never> }
  readonly end: (span: Tracer.Span, exit: Exit.Exit<unknown, unknown>) => void
}

/**
 * @internal
 * What `withSpan` reads from the fiber for each span (tracer, clock, sampling, annotations,
 * links, parent) is read once from the server's context, which every connection inherits. The
 * span goes into the fiber's context before it starts, so the fiber has no context to change and
 * restore, and the span ends when the connection does. `undefined` when tracing is off or does
 * not propagate here: the caller uses `Effect.withSpan`, which knows those cases.
 */
export const makeConnectionSpans = <R>(
  context: Context.Context<R>,
  name: string,
  kind: Tracer.SpanKind
): ConnectionSpans | undefined => {
  const parentSpan = Context.getOption(context as Context.Context<never>, Tracer.ParentSpan)
  if (
    !Context.get(context, References.TracerEnabled) ||
    (Option.isSome(parentSpan) && Context.get(parentSpan.value.annotations, Tracer.DisablePropagation))
  ) return undefined
  const tracer = Context.get(context, Tracer.Tracer)
  const clock = Context.get(context, Clock.Clock)
  const timing = Context.get(context, References.TracerTimingEnabled)
  const annotations = Context.get(context, References.TracerSpanAnnotations)
  const links = Context.get(context, References.TracerSpanLinks)
  const sampled = Option.isSome(parentSpan) && parentSpan.value.sampled === false
    ? false
    : !LogLevel.isGreaterThan(Context.get(context, Tracer.MinimumTraceLevel), Context.get(context, Tracer.CurrentTraceLevel))
  // The frame `withSpan` adds for stack traces, the same for every connection.
  const base = Context.add(context as Context.Context<never>, References.CurrentStackFrame, {
    name,
    stack: constUndefined,
    parent: Context.get(context, References.CurrentStackFrame)
  })
  const now = () => timing ? clock.currentTimeNanosUnsafe() : BigInt(0)
  return {
    start: (attributes) => {
      const span = tracer.span({
        name,
        parent: parentSpan,
        annotations: Context.empty(),
        links: links.length === 0 ? [] : links.slice(),
        startTime: now(),
        kind,
        root: false,
        sampled
      })
      for (const key in annotations) span.attribute(key, annotations[key])
      for (const key in attributes) span.attribute(key, attributes[key])
      return { span, context: Context.add(base, Tracer.ParentSpan, span) }
    },
    end: (span, exit) => {
      if (span.status._tag !== "Ended") span.end(now(), exit)
    }
  }
}

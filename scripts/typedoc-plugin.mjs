// TypeDoc plugin for this repository's API docs: a public constant's initializer is how it is
// implemented (`= internal.connect`), not part of its signature, so it is not shown.
import { Converter, ReflectionKind } from "typedoc"

/** @param {import("typedoc").Application} app */
export function load(app) {
  app.converter.on(Converter.EVENT_RESOLVE_BEGIN, (context) => {
    for (const reflection of context.project.getReflectionsByKind(ReflectionKind.Variable)) {
      reflection.defaultValue = undefined
    }
  })
}

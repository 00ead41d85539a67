import type { Context } from 'hono'
import * as v from 'valibot'
import { HttpProblem } from './problem.js'

/** Issues in a form a client can show: dotted path and message. */
function describe(issues: readonly v.BaseIssue<unknown>[]) {
  return issues.map((issue) => ({
    field: issue.path?.map((p) => String(p.key)).join('.') || '(body)',
    message: issue.message,
  }))
}

/** Validates a value against a schema, or throws a 400 `invalid-request` naming every bad field. */
export function parseWith<S extends v.GenericSchema>(schema: S, value: unknown): v.InferOutput<S> {
  const result = v.safeParse(schema, value)
  if (result.success) return result.output
  const issues = describe(result.issues)
  throw new HttpProblem(400, 'invalid-request', `"${issues[0]?.field}" ${issues[0]?.message}`, { issues })
}

/** Reads the JSON body and validates it: the one way a route gets its input. */
export async function jsonBody<S extends v.GenericSchema>(c: Context, schema: S): Promise<v.InferOutput<S>> {
  let body: unknown
  const text = await c.req.text()
  try {
    body = text === '' ? {} : JSON.parse(text)
  } catch {
    throw new HttpProblem(400, 'invalid-json', 'The body is not JSON.')
  }
  return parseWith(schema, body)
}

import fc from 'fast-check'

/** Cases run per edge in this file's process, for the line each long run prints. */
const counts = new Map<string, number>()

/**
 * `fc.assert`, recording how many cases ran for `edge`: a long run then states what it covered
 * instead of leaving it to be assumed.
 */
export async function assertEdge<Ts extends unknown[]>(
  edge: string,
  property: fc.IAsyncProperty<Ts>,
  params: fc.Parameters<Ts>,
): Promise<void> {
  const details = await fc.check(property, params)
  counts.set(edge, (counts.get(edge) ?? 0) + details.numRuns)
  if (details.failed) throw new Error(fc.defaultReportMessage(details) ?? `${edge}: a case failed`)
}

/** Prints `[fuzz] edge: N cases` for every edge checked so far. */
export function reportCases(): void {
  for (const [edge, n] of counts) console.log(`[fuzz] ${edge}: ${n.toLocaleString('en')} cases`)
}

/** One line of the benchmark table: a figure, its same-run reference, and the target it is held to. */
export interface BenchRow {
  what: string
  figure: number
  unit: string
  reference?: { what: string; figure: number }
  /** figure ÷ reference figure (for times: lower is better). */
  ratio?: number
  /** e.g. "≤ 1.5×", "faster", "report". */
  target: string
  /** Undefined for rows that are reported, not judged. */
  met?: boolean
  note?: string
}

/** A suite measures one area and returns its rows; suites run one after another. */
export interface BenchSuite {
  name: string
  run(): Promise<BenchRow[]>
}

/** Compares a time ratio with a "≤ N×" target. */
export function judgeRatio(ratio: number, limit: number): boolean {
  return ratio <= limit
}

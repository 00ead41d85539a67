import type { SandboxStore } from './store.js'

/** One openapi refund, keyed by its trade and `out_request_no` (openapi-protocol §8.2). */
export interface OpenapiRefund {
  tradeNo: string
  outRequestNo: string
  amount: string
  reason: string | null
  createdAt: number
}

/** The openapi refunds table, kept beside the trades in the sandbox's SQLite file. */
export class OpenapiRefunds {
  constructor(private readonly store: SandboxStore) {
    store.db.exec(`CREATE TABLE IF NOT EXISTS openapi_refunds (
      tradeNo TEXT NOT NULL, outRequestNo TEXT NOT NULL, amount TEXT NOT NULL, reason TEXT, createdAt INTEGER NOT NULL,
      PRIMARY KEY (tradeNo, outRequestNo))`)
  }

  get(tradeNo: string, outRequestNo: string): OpenapiRefund | undefined {
    return this.store.db
      .prepare('SELECT * FROM openapi_refunds WHERE tradeNo = ? AND outRequestNo = ?')
      .get(tradeNo, outRequestNo) as OpenapiRefund | undefined
  }

  insert(refund: OpenapiRefund): void {
    this.store.db
      .prepare(
        `INSERT INTO openapi_refunds (tradeNo, outRequestNo, amount, reason, createdAt)
         VALUES (@tradeNo, @outRequestNo, @amount, @reason, @createdAt)`,
      )
      .run(refund)
  }
}

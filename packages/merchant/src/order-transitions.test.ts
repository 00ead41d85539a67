import { describe, expect, it } from 'vitest'
import type { TradeSnapshot } from '@alipay-payment-handler/gateway-client'
import { latePaymentTransition, payTransition, tradeTransition } from './order-transitions.js'

const trade = (status: string | undefined): TradeSnapshot => ({
  outTradeNo: 'D1',
  tradeNo: '2024T1',
  status,
  amount: '9.90',
  sellerId: '2088',
  payTime: '2024-05-01 10:00:00',
  raw: {},
})

describe('the order state machine (tradeTransition)', () => {
  it('a paid trade moves wait and timeout to success with its trade fields, never a cancelled order', () => {
    for (const status of ['TRADE_SUCCESS', 'TRADE_FINISHED']) {
      expect(tradeTransition(trade(status))).toEqual({
        move: {
          from: ['wait', 'timeout'],
          patch: { state: 'success', tradeStatus: status, tradeNo: '2024T1', payTime: '2024-05-01 10:00:00' },
        },
        sync: { from: ['success'], patch: { tradeStatus: status } },
      })
    }
  })

  it('a closed trade closes an unpaid order and only records the status of a paid one', () => {
    expect(tradeTransition(trade('TRADE_CLOSED'))).toEqual({
      move: { from: ['wait', 'timeout'], patch: { state: 'close', tradeStatus: 'TRADE_CLOSED', tradeNo: '2024T1' } },
      sync: { from: ['close', 'success'], patch: { tradeStatus: 'TRADE_CLOSED' } },
    })
  })

  it('a waiting trade never touches a paid order', () => {
    const { move, sync } = tradeTransition(trade('WAIT_BUYER_PAY'))
    expect(move.from).not.toContain('success')
    expect(move.patch.state).toBeUndefined()
    expect(sync).toBeUndefined()
  })

  it('payTransition keeps the fields of a trade proven paid by the gateway, status or not', () => {
    expect(payTransition(trade(undefined))).toEqual({
      from: ['wait', 'timeout'],
      patch: { state: 'success', tradeStatus: undefined, tradeNo: '2024T1', payTime: '2024-05-01 10:00:00' },
    })
  })

  it('a late payment keeps a cancelled order closed and records its trade, the status forward only', () => {
    expect(latePaymentTransition(trade('TRADE_SUCCESS'))).toEqual({
      from: ['close'],
      patch: { tradeStatus: 'TRADE_SUCCESS', tradeNo: '2024T1', payTime: '2024-05-01 10:00:00' },
    })
    expect(latePaymentTransition(trade('TRADE_SUCCESS'), 'TRADE_CLOSED').patch).not.toHaveProperty('tradeStatus')
    expect(latePaymentTransition(trade('TRADE_SUCCESS')).patch.state).toBeUndefined()
  })

  it("the recorded gateway status only moves forward in the trade's life", () => {
    // A late first TRADE_SUCCESS after the refund's TRADE_CLOSED: no status-only sync.
    expect(tradeTransition(trade('TRADE_SUCCESS'), 'TRADE_CLOSED').sync).toBeUndefined()
    expect(tradeTransition(trade('TRADE_SUCCESS'), 'TRADE_FINISHED').sync).toBeUndefined()
    expect(tradeTransition(trade('TRADE_SUCCESS'), 'TRADE_SUCCESS').sync).toBeUndefined()
    expect(tradeTransition(trade('TRADE_FINISHED'), 'TRADE_SUCCESS').sync?.patch).toEqual({
      tradeStatus: 'TRADE_FINISHED',
    })
    expect(tradeTransition(trade('TRADE_CLOSED'), 'TRADE_SUCCESS').sync?.patch).toEqual({ tradeStatus: 'TRADE_CLOSED' })
    // The move itself (unpaid to paid) is a compare-and-set on the state, whatever the status was.
    expect(tradeTransition(trade('TRADE_SUCCESS'), 'TRADE_CLOSED').move.patch.state).toBe('success')
  })
})

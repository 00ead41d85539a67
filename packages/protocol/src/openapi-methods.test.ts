import { describe, expect, test } from 'vitest'
import { OPENAPI_METHODS, OPENAPI_PRODUCT_CODES } from './openapi-methods.js'

describe('openapi names', () => {
  // The wire spellings, written out here as the independent check (openapi-protocol §5).
  test('methods', () => {
    expect(OPENAPI_METHODS).toEqual({
      pagePay: 'alipay.trade.page.pay',
      wapPay: 'alipay.trade.wap.pay',
      precreate: 'alipay.trade.precreate',
      query: 'alipay.trade.query',
      close: 'alipay.trade.close',
      cancel: 'alipay.trade.cancel',
      refund: 'alipay.trade.refund',
      refundQuery: 'alipay.trade.fastpay.refund.query',
      billDownloadUrl: 'alipay.data.dataservice.bill.downloadurl.query',
      certDownload: 'alipay.open.app.alipaycert.download',
    })
  })
  test('product codes, keyed like their methods', () => {
    expect(OPENAPI_PRODUCT_CODES).toEqual({
      pagePay: 'FAST_INSTANT_TRADE_PAY',
      wapPay: 'QUICK_WAP_WAY',
      precreate: 'FACE_TO_FACE_PAYMENT',
    })
  })
})

import fc from 'fast-check'
import { describe, expect, test } from 'vitest'
import { ValidationError } from './errors.js'
import { checkPayRequest, checkPaymentMethodData, validatePaymentMethodData } from './validate.js'

const valid = {
  service: 'mobile.securitypay.pay',
  partner: '2088101122136241',
  _input_charset: 'utf-8',
  sign_type: 'MD5',
  sign: '0a9f09ce98072daa5f1c809feab65c28',
  notify_url: 'https://shop.example.com/alipay/notify',
  out_trade_no: 'D20241220161615000001',
  subject: '测试商品',
  payment_type: '1',
  seller_id: '2088101122136241',
  total_fee: '99.99',
  body: 'two cups',
  goods_type: '1',
  it_b_pay: '30m',
}

/** The first issue of `data` with one field replaced. */
function firstIssue(field: string, value: unknown) {
  return checkPaymentMethodData({ ...valid, [field]: value })[0]
}

describe('PaymentMethodSpecificData', () => {
  test('a complete, correct data set passes and comes back unchanged', () => {
    expect(checkPaymentMethodData(valid)).toEqual([])
    expect(validatePaymentMethodData(valid)).toBe(valid)
  })

  test('unknown members are kept, never dropped', () => {
    const data = { ...valid, extra_common_param: 'vip' }
    expect(validatePaymentMethodData(data)['extra_common_param']).toBe('vip')
  })

  test.each(['service', 'partner', '_input_charset', 'sign_type', 'sign', 'notify_url'])(
    'required member %s must be present and non-empty',
    (field) => {
      const { [field]: _omitted, ...rest } = valid as Record<string, string>
      expect(checkPaymentMethodData(rest)).toContainEqual(expect.objectContaining({ field, code: 'FIELD_REQUIRED' }))
      expect(firstIssue(field, '')).toMatchObject({ field, code: 'FIELD_REQUIRED' })
    },
  )

  test.each([
    ['total_fee', '99.999', 'FIELD_FORMAT'],
    ['total_fee', '1e3', 'FIELD_FORMAT'],
    ['total_fee', '-1.00', 'FIELD_FORMAT'],
    ['total_fee', '01.00', 'FIELD_FORMAT'],
    ['total_fee', ' 1.00', 'FIELD_FORMAT'],
    ['total_fee', '0.00', 'FIELD_RANGE'],
    ['total_fee', '100000000.01', 'FIELD_RANGE'],
    ['_input_charset', 'latin1', 'FIELD_FORMAT'],
    ['sign_type', 'DSA', 'FIELD_FORMAT'],
    ['sign_type', 'md5', 'FIELD_FORMAT'],
    ['goods_type', '2', 'FIELD_FORMAT'],
    ['it_b_pay', '1.5h', 'FIELD_FORMAT'],
    ['it_b_pay', '0m', 'FIELD_FORMAT'],
    ['it_b_pay', '16d', 'FIELD_FORMAT'],
    ['it_b_pay', '361h', 'FIELD_FORMAT'],
    ['it_b_pay', '2c', 'FIELD_FORMAT'],
    ['it_b_pay', '2024-02-30 10:00:00', 'FIELD_FORMAT'],
    ['out_trade_no', 'a'.repeat(65), 'FIELD_FORMAT'],
    ['out_trade_no', 'order 1', 'FIELD_FORMAT'],
    ['out_trade_no', 'order:1', 'FIELD_FORMAT'],
    ['partner', '1088101122136241', 'FIELD_FORMAT'],
    ['partner', '208810112213624', 'FIELD_FORMAT'],
    ['payment_type', '47', 'FIELD_FORMAT'],
    ['seller_id', 'not an account', 'FIELD_FORMAT'],
    ['notify_url', '/relative', 'FIELD_FORMAT'],
    ['notify_url', 'https://shop.example.com/notify?order=1', 'FIELD_FORMAT'],
    ['notify_url', 'ftp://shop.example.com/notify', 'FIELD_FORMAT'],
    ['notify_url', `https://shop.example.com/${'n'.repeat(200)}`, 'FIELD_LENGTH'],
    ['subject', '商'.repeat(129), 'FIELD_LENGTH'],
    ['body', 'b'.repeat(513), 'FIELD_LENGTH'],
    ['total_fee', 99.99, 'FIELD_TYPE'],
    ['partner', 2088101122136241, 'FIELD_TYPE'],
    ['extra', { nested: true }, 'FIELD_TYPE'],
  ])('%s = %j fails with %s', (field, value, code) => {
    expect(firstIssue(field, value)).toMatchObject({ field, code })
  })

  test.each([
    ['total_fee', '0.01'],
    ['total_fee', '100000000.00'],
    ['total_fee', '1'],
    ['total_fee', '1.5'],
    ['_input_charset', 'GBK'],
    ['_input_charset', 'UTF-8'],
    ['it_b_pay', '1m'],
    ['it_b_pay', '21600m'],
    ['it_b_pay', '360h'],
    ['it_b_pay', '15d'],
    ['it_b_pay', '1c'],
    ['it_b_pay', '2030-01-01 10:00:00'],
    ['seller_id', 'seller@example.com'],
    ['seller_id', '13800138000'],
    ['goods_type', '0'],
    ['notify_url', 'http://localhost:4200/notify/mapi'],
  ])('%s = %j is accepted', (field, value) => {
    expect(checkPaymentMethodData({ ...valid, [field]: value })).toEqual([])
  })

  test('non-objects are refused with a type issue', () => {
    for (const data of [null, undefined, 'x', 1, [valid]]) {
      expect(checkPaymentMethodData(data)).toEqual([expect.objectContaining({ field: 'data', code: 'FIELD_TYPE' })])
    }
  })

  test('the thrown error names the field, the rule and lists every issue', () => {
    const bad = { ...valid, total_fee: '1.234', sign: '' }
    let caught: unknown
    try {
      validatePaymentMethodData(bad)
    } catch (error) {
      caught = error
    }
    expect(caught).toBeInstanceOf(ValidationError)
    const error = caught as ValidationError
    expect(error.field).toBe('sign')
    expect(error.code).toBe('FIELD_REQUIRED')
    expect(error.message).toBe('[alipay] "sign" is required and must not be empty')
    expect(error.issues.map((i) => i.field)).toEqual(['sign', 'total_fee'])
  })

  test('any two-decimal amount in range is accepted; any third decimal is refused', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1n, max: 10_000_000_000n }), fc.integer({ min: 0, max: 9 }), (fen, extra) => {
        const text = `${fen / 100n}.${String(fen % 100n).padStart(2, '0')}`
        expect(checkPaymentMethodData({ ...valid, total_fee: text })).toEqual([])
        expect(checkPaymentMethodData({ ...valid, total_fee: `${text}${extra}` })).not.toEqual([])
      }),
    )
  })
})

describe('gateway pay-request rules', () => {
  const request = {
    service: 'create_direct_pay_by_user',
    partner: '2088101122136241',
    _input_charset: 'utf-8',
    out_trade_no: '20240501-0001',
    subject: '测试商品',
    payment_type: '1',
    total_fee: '0.01',
    seller_id: '2088101122136241',
    notify_url: 'https://shop.example.com/alipay/notify',
    return_url: 'https://shop.example.com/alipay/return',
  }

  test('a correct request is accepted on both web services', () => {
    expect(checkPayRequest(request)).toBeUndefined()
    expect(checkPayRequest({ ...request, service: 'alipay.wap.create.direct.pay.by.user' })).toBeUndefined()
  })

  test.each([
    [{ out_trade_no: '' }, 'PARAMTER_IS_NULL', 'out_trade_no'],
    [{ subject: undefined }, 'PARAMTER_IS_NULL', 'subject'],
    [{ total_fee: '' }, 'PARAMTER_IS_NULL', 'total_fee'],
    [{ seller_id: '' }, 'PARAMTER_IS_NULL', 'seller_id'],
    [{ payment_type: '47' }, 'ILLEGAL_PAYMENT_TYPE', 'payment_type'],
    [{ price: '0.01', quantity: '1' }, 'ILLEGAL_FEE_PARAM', 'total_fee'],
    [{ total_fee: 'abc' }, 'ILLEGAL_FEE_PARAM', 'total_fee'],
    [{ total_fee: '0.001' }, 'ILLEGAL_FEE_PARAM', 'total_fee'],
    [{ total_fee: '0' }, 'TOTAL_FEE_LESSEQUAL_ZERO', 'total_fee'],
    [{ total_fee: '0.00' }, 'TOTAL_FEE_LESSEQUAL_ZERO', 'total_fee'],
    [{ total_fee: '100000000.01' }, 'TOTAL_FEE_OUT_OF_RANGE', 'total_fee'],
    [{ out_trade_no: 'x'.repeat(65) }, 'ILLEGAL_ARGUMENT', 'out_trade_no'],
    [{ notify_url: 'https://a.example/n?x=1' }, 'ILLEGAL_ARGUMENT', 'notify_url'],
    [{ it_b_pay: '1.5h' }, 'ILLEGAL_ARGUMENT', 'it_b_pay'],
    [{ show_url: 'javascript:alert(1)' }, 'ILLEGAL_ARGUMENT', 'show_url'],
    [{ extra_common_param: 'a=b' }, 'ILLEGAL_ARGUMENT', 'extra_common_param'],
    [{ service: 'alipay.wap.create.direct.pay.by.user', _input_charset: 'gbk' }, 'ILLEGAL_CHARSET', '_input_charset'],
    [{ service: 'create_partner_trade_by_buyer' }, 'ILLEGAL_SERVICE', 'service'],
  ])('%j → %s on %s', (change, code, field) => {
    expect(checkPayRequest({ ...request, ...change })).toEqual({ code, field })
  })

  test('show_url may carry a query string', () => {
    expect(checkPayRequest({ ...request, show_url: 'https://shop.example.com/item?id=7' })).toBeUndefined()
  })

  test('price with quantity instead of total_fee is accepted', () => {
    const { total_fee: _fee, ...rest } = request
    expect(checkPayRequest({ ...rest, price: '0.50', quantity: '2' })).toBeUndefined()
  })
})

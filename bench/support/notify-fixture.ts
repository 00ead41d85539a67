// One notify for every protocol row, so the Node and service-worker figures time the same input.

/** A typical trade_status_sync notify: 20 parameters, Chinese subject (mapi-protocol §6.1). */
export const NOTIFY: Record<string, string> = {
  notify_time: '2024-05-01 12:00:06',
  notify_type: 'trade_status_sync',
  notify_id: 'a9f3c1e07b5d4a28e6c0f1b2d3e4a5b6c7',
  out_trade_no: 'D20240501120000123456',
  subject: '测试商品 两杯咖啡',
  payment_type: '1',
  trade_no: '2024050121001004330200123456',
  trade_status: 'TRADE_SUCCESS',
  gmt_create: '2024-05-01 11:59:40',
  gmt_payment: '2024-05-01 12:00:04',
  seller_email: 'seller@example.com',
  buyer_email: 'buyer@example.com',
  seller_id: '2088101122136241',
  buyer_id: '2088102122524333',
  price: '99.99',
  total_fee: '99.99',
  quantity: '1',
  discount: '0.00',
  is_total_fee_adjust: 'N',
  use_coupon: 'N',
}

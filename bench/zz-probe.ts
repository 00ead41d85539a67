import { startServerChild } from '/work/wt-pgscale/bench/support/child.ts'
const dbPath = process.argv[2]!
const n = Number(process.argv[3] ?? 2000)
const t0 = performance.now()
const child = await startServerChild({
  mode: 'signing-server',
  gatewayUrl: 'http://127.0.0.1:9/gateway.do',
  dbPath,
  sessions: {
    outTradeNos: Array.from({ length: n }, (_, i) => `P${i}`),
    merchantNotifyUrl: 'http://localhost:4100/notify',
    subject: 's',
    totalFee: '0.01',
  },
})
console.log(dbPath.slice(0, 10), n, 'sessions: READY after', Math.round(performance.now() - t0), 'ms')
console.log(await child.stats())
await child.close()

/**
 * Demo accounts shared by the sandbox, the signing server, the demo shop, the tests and
 * `npm start`. Every key here is a PUBLIC TEST KEY, generated for this repository: never
 * configure it anywhere real. Pointing the kit at the real gateway replaces all of it through
 * configuration (see the README).
 */

/** The demo merchant: partner id, seller id and MD5 key (32 characters, as Alipay issues them). */
export const DEMO_PARTNER = {
  partner: '2088101122136241',
  sellerId: '2088101122136241',
  sellerEmail: 'seller@demo-shop.example',
  md5Key: 'demo0md5key0for0local0tests00001',
} as const

/** The demo merchant RSA key pair (2048-bit); the gateway holds the public half. */
export const DEMO_MERCHANT_RSA = {
  privateKey:
    '-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQDB/jV3+mL9siqG\nnuUi3aEUod4XJgOQyRPgr0mAX1OlsCUmzeNU49yFhJlCBn65Rxs7FNhg51Zo6EUH\nVBD66HynyRyHxUpjmreRUx2urTkDqfWjYF1/PmifwiBTPdKCp30go8YL9dOFK32Z\nJ2PJMWFu7Jt60grxaBzMeNQ90lWezzEMkh3Q9n7suLvB4vgHjIOQBa1cMWdtDE0J\nb9bu7eHfQUpUMrBF+ovHBZIBrQMgHZjrlCkLwVua6MvjDo55bxxPsutdo4I0CNeE\naNqjdSNQ/oq9Bc8g4I01FRmaAOqL+E1tNraVdYrL2LT4V1tHkLJyHYtIAgLqnpZu\n2ZDNBIhDAgMBAAECggEAV9vbeHqwsairBOxa53cL+K20ybQgQkcnVwfcWKUT28MS\nmGf/8Rb/7YKX7KTHaP9Q0GnI895iLsIfXUnQJOr9Zfo6Dy2l2sWcJNfJZi6y1zt2\n8ib3QWVQ+iXwAPNLb3wOuiUiUZFk2nfPevkxgtH4CEZlxnLxnNLj1CFXMqabu3/c\nrT1hCVc7rkGxCBJTXDyFQiAqz06yYDXtqfu29WQ79CeY4Yt//Si4MKdqeVHknFdC\nuWoICDCHWUHxJgsAOi5KG4qwNKeyIUCX9lIMhlutY+KyyTW5TaLb1zx42SBHBU2d\np7Mnpc3KunWZkpxKaWniRB2DlVu/tyQ/gO9n6ib7vQKBgQD7QUB/Tv7q8BuuGrwh\noQqDDbjq/86gF7pYzG+mag77fUnqAAjBxRihZfk1dQipSRJvjmRcv7ifhFwQYBjs\nXSGHlK7VRUgQIGvDJNkTBcc31Y6JCSgu05lG//Wt0hAU9qmQC76F5aXAGGAY1KCN\nUAmO9dKUMdyj+nH9JaIvzrhZzQKBgQDFqByLICmncLkXJHJmnepLWa1c7HOrP0FI\ngAEby/ofF6Ula2IP7YmFLg6U0g1SJh4oSM3KGINDmIL0+rpX5WJD68UdIDPQ6GjX\nTRUrY7xMu1Es6yAZIjVlIICRHgvfQnonUDipFQVnZoEF8q7FMHZuPepGJdPWym6V\nE1Hx4woaTwKBgECLrsoFvS8Vp8a+T35EJLMuH0cfmDFAZzrQqg4SSO8KbKaUg6tj\nusQbsj2tZyA2CWpnJhk9l2xDUHNUfJKcCjUOWSuotK6P5Z8oJCvi3B7X2doSZCRD\nb6jxsGeLA16fT0gV/EfhiwciO+2lEem7mfkD5aj0dj4Z5JanyFaHwIwxAoGAXqM+\nf3K33v7+8FC4IeAMdWWLt0lTnLPduyvm2/tPWCHHJeKDgmLWjJjfzGvCiwnLOLib\nJ9+SwgO8+DUwkbM32JODvo1TofwVbrjuoObRGuA5Xst5g+84J6JnTJRZVN2MhVRI\nvNRe0QJoVoO7IJkyq1gj2tBz3IzyY5hrjOiLRssCgYEA4gLvRcwNZS86aAXmwPCJ\nNZ+6SyWzirRO60I5bT7zH3KL/lTyI8KVYTHQTiuHCJoAzvzy9iXG7eR3iHxZ9Vf2\nG5uJkN8WKX5jzV/VIjMjusZdaoCa4QFIndnihRtNdMcw0xgwzb442tw1I5nVzT85\n8RXCGSuDhcPvEq5VFJXtFYw=\n-----END PRIVATE KEY-----\n',
  publicKey:
    '-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwf41d/pi/bIqhp7lIt2h\nFKHeFyYDkMkT4K9JgF9TpbAlJs3jVOPchYSZQgZ+uUcbOxTYYOdWaOhFB1QQ+uh8\np8kch8VKY5q3kVMdrq05A6n1o2Bdfz5on8IgUz3Sgqd9IKPGC/XThSt9mSdjyTFh\nbuybetIK8WgczHjUPdJVns8xDJId0PZ+7Li7weL4B4yDkAWtXDFnbQxNCW/W7u3h\n30FKVDKwRfqLxwWSAa0DIB2Y65QpC8FbmujL4w6OeW8cT7LrXaOCNAjXhGjao3Uj\nUP6KvQXPIOCNNRUZmgDqi/hNbTa2lXWKy9i0+FdbR5Cych2LSAIC6p6WbtmQzQSI\nQwIDAQAB\n-----END PUBLIC KEY-----\n',
} as const

/** The sandbox gateway RSA key pair; merchants and the signing server hold the public half. */
export const DEMO_GATEWAY_RSA = {
  privateKey:
    '-----BEGIN PRIVATE KEY-----\nMIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQCaLDhorWap0YYN\nfCcKpw8UtDU+AAtDDSf6rCq5Lyc5xTkckPCwWAKiD7+qPDxVSfxtNeohqHSntzoS\nHba56IV4StjzcZtPe42ZJYfXPjvA0feuCFDH0gStDyVvt9AsYp4yacjmCkR3555U\nEwkIFpOIEiYyR584G/phBGyHy/fQnjcDudPHcr/sn3focqkaXUi3JKVXOGSDkpnm\nFTf2DbKE+nXTFVbuDu8xiLQEDq31Q4C/jTGLxQUFgZhRn4TPJM+CW9u4KGTcS/6e\nlfVPkFDt49ufgnc9FWfImG5XO9MICWKHO9m35nHxG7GOP0e4Qdd9nAqzz3+BfFTU\n/AIYKLyPAgMBAAECggEASqmDn93py++2Fa28UoJY4VPsPNxUl+I1LEZYYlodivKi\nF91xUlUs4ULzNQP6y+sKnfDwM+CareYj70YIibu7d2f37N1ls3ZIOpRcVrbCxTxp\n0BQi2sIwlYayQIop/HS92/gy3IS4Z8D5ggm94/ba95iietMInmmeNYGo9ZKnrpVP\nwoDNl0/8Pk/siNbjrhngU/Ld4VpNwEt2a0EzVELZErUq9YaiUAX+JjR2Cm2p7qX/\nXgJA9yXwsei2d7DxuwrFZ4RGkElnoCMvea3mBCrzCE8XUHe4FtOLlKI9fqGv73SS\n3+d/auypr+oHvp4wBdmdggIrQcJs1kykl2CJkLQwkQKBgQDPUtKef/khdP2lHuIG\nqHbtscQp4SDolsKBw7Rr09qlG+DO/NvnniVVqZ2pLZhKop3X0P5I1TML0J4KbvLf\nTZY3AoBn6WZQOFl9aG1251bIw2Yw603db1AydR0nrradDwwmaqzvHzrhLAlQYlWM\nzI8OjDLylsC+XAXg2hTpuMUC0wKBgQC+XsUrLflCdrHy2g5+LAkNXNG7GcAOMJcP\nxadrP6e5l4KgN5GQ0C0ccPDttlBH9db93gKA8LgUJfzUhkpsRQJfPo6heRjW9Hz8\nUxqryUBcum+7UtLqoyLeLdzsJnhZV08zAltU2uAmslxhU99qpawDv1rzyN3q+JJB\n8C6RoKEx1QKBgQC+keH6QaXt5Az2x6F5/0Z6jOnEmSTXxyR5hTwF1ZHoLO0DNpio\nmcy1phi/FqMjD8FJTNlAd4DZfmSXMI7dRgMrA4ime3tJh9JynRfpsRIrrrjzhIdp\nYNV13AL1o/pF+jvv4CSgFLPZoNHa6ti6eJmTBLocFQiMsifRHIUWpXmqcwKBgC4+\nd0b19AbhLnj/32Vm7QwB8DCzIKRRyWBbcz/qRqQe2exxkzrKVysBhIU6NGZGoeMp\nexI3Z3/9el1mAc4rNVhNqfgvookU+weQaHoyeSANafbnN7Uny+CM4426CqIpQ2Pw\nvp7uTGUaDrbV2P/fHtoKMd3mfYIGwACkh6t4ia/BAoGBAMpm+pyZAzYTv9OxF/7D\n3tSAEWzT+hQmYt+ni+mpekYw8AILXk5+xzdb8mNykMczY6bWAlzRoCbNZrjHwUIo\nqUFzHeRamL8N9hh7zpW2P4UMX2D0tQUDJI3N16tfWtK8lwpaT9NuqMFmz4AeODnk\nzzjQX/CF73utN8T0lNXX0fS3\n-----END PRIVATE KEY-----\n',
  publicKey:
    '-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAmiw4aK1mqdGGDXwnCqcP\nFLQ1PgALQw0n+qwquS8nOcU5HJDwsFgCog+/qjw8VUn8bTXqIah0p7c6Eh22ueiF\neErY83GbT3uNmSWH1z47wNH3rghQx9IErQ8lb7fQLGKeMmnI5gpEd+eeVBMJCBaT\niBImMkefOBv6YQRsh8v30J43A7nTx3K/7J936HKpGl1ItySlVzhkg5KZ5hU39g2y\nhPp10xVW7g7vMYi0BA6t9UOAv40xi8UFBYGYUZ+EzyTPglvbuChk3Ev+npX1T5BQ\n7ePbn4J3PRVnyJhuVzvTCAlihzvZt+Zx8Ruxjj9HuEHXfZwKs89/gXxU1PwCGCi8\njwIDAQAB\n-----END PUBLIC KEY-----\n',
} as const

/** The test buyer the sandbox cashier accepts, printed by `npm start`. */
export const DEMO_BUYER = {
  login: 'buyer@demo.example',
  password: 'alipay-demo',
  userId: '2088102122524333',
  balance: '100000.00',
} as const

/** A second buyer with almost no money, for the insufficient-balance path. */
export const DEMO_POOR_BUYER = {
  login: 'poor@demo.example',
  password: 'alipay-demo',
  userId: '2088102122524334',
  balance: '0.05',
} as const

/**
 * The demo openapi app (Alipay's current gateway): app_id and the app RSA key pair (2048-bit,
 * RSA2). PUBLIC TEST KEYS generated for this repository; the sandbox holds the public half and
 * signs its replies and notifications with DEMO_GATEWAY_RSA.
 */
export const DEMO_APP = {
  appId: '2021000122671080',
  sellerId: '2088101122136241',
  privateKey:
    '-----BEGIN PRIVATE KEY-----\nMIIEvgIBADANBgkqhkiG9w0BAQEFAASCBKgwggSkAgEAAoIBAQC7O03Oyod0bqvM\nGuK5e6S8bEPwkwIb2bZjB9dzQNlB+XscxxisuhW0jnxvLzqhNxXYH0bM1gUC7GL+\nMw3OeaTcGYujp8w5lJgKtEYWdGec3apolQzEdRDNVXGA1xMjcTKgxVdxfd+JoTaJ\nmFfc7ITMeZqsqHdLdrwqPblJjuVYwvzo32oRkRaytgksQJb93lfunqWjBN1iv9DS\nHMB1y0a5xwR6lvDBAfe7DcFeEJJLWxIGAprPDgbFzpqr4Y973jPTpOrwfPwzEBiE\nhxIejMLGI2i3VddU0itO3Okt+1UWMIC15bGsy2PWJC2WvIFPgO6h5QngEC+5JXeU\nX2f0cCx/AgMBAAECggEAHIh7oZWM0gohpU+9mJ3Gq65mJi4JJrxlhq8Fvvs1gM/n\n2qle0cfkEema/gi5CyONcSvHCuVcyybCKVIXew1fuekstiqWvXmvOAZkHfzsY2QG\nmbyJPxFGF7y7OPLN6FtSZ1zbqCCSJfPLD2oHjdP/ovevQjvEPlxgbaGNcK/VtNJz\nTZuebmLplbwBg/eO3iABPTg/yi0p8OXsq/gKfXz98BhXNnIxdsbm5yARn8+GICGl\n5ORstVFUB+bUW6BtvBKirgZ58dMKuBmgfDjOMjjNS3SoXnOGPBRXCtJk1/JKSRvz\nK731Iq1SVLo6UHxAm/C0itEh+vJZq5WG4/eM0iy21QKBgQDyMiy5rycFx1E57bp3\n5oRKKwS3/K/VflMmfC/S5E7AHA0kYezhz85K1RXi2wiVcWt1kldN9XyBqD6QbbVC\nUCefErUCYUoe90GqfotYl8jWF0b5ZeVH7FytBRRZnfOv25SEux4M6jX376qGF+QJ\ngXA7x+xpl/u+99ifxRHGTPvwywKBgQDF5yhJrTz+LcC4OjP5mYO43XBNOIADQ5zM\n8Q7XGd/+LK5/6uaT8pbkdH702m7C0P8HNU+f53+esLuLMuM6YecVTpn3CKTFmOSf\n++2XOuUAlGj3jLQlqRAGmGK+/7FCbs2MquTxtDsYDn+F36StEDntoAnOBRhIQhVT\nHOSYx5iAnQKBgGhIBk3lBo5MZcLlgxZBINC2eQ+nMyZff/ngGs9ZEjdRXK8/orkP\nuqkp2oSU/rsp3LUAz6p3eqZxBI83TYZB8O1jJqDhtwJiP9njJqh8ojLcTujvYKt5\nL+Yne72ibtxXVTlZP/UbmyUoAmo+OyeEngh/amGE2RY+rP0N4ztYxlnFAoGBAJWM\nXJFwbArXoC6XLPeM3lEwZNC1xWayDSeBcelyECYOtb7MT3m1c/knX1jAR7rIHC/i\nRU1crr/IZbCGv9c6bFlZkFdxHLKFGx8aTSxewPZzL+8BUJC09PtG5DfZGKZO/N0z\nttY/j/hZ3FvZ6KMvA9dhfIdGqlbQOTUZPFWHXuKxAoGBAOA/UDe6dwuf5sozXFDp\nPyDXqQIkfPQO8c/EcSAgtlJ/UXwsYvIwalBo2Yr5ZUfjjVUDRRATMbfNWa/1eNtN\n8rWPGHT0S1q0vWw9Vo4sSdxQNA3a1W/ggslVNJWvThXG60hTCD6eohOX0oDdo4ln\nDA8q6Tpk6BGeLTelqnSQTqA0\n-----END PRIVATE KEY-----\n',
  publicKey:
    '-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAuztNzsqHdG6rzBriuXuk\nvGxD8JMCG9m2YwfXc0DZQfl7HMcYrLoVtI58by86oTcV2B9GzNYFAuxi/jMNznmk\n3BmLo6fMOZSYCrRGFnRnnN2qaJUMxHUQzVVxgNcTI3EyoMVXcX3fiaE2iZhX3OyE\nzHmarKh3S3a8Kj25SY7lWML86N9qEZEWsrYJLECW/d5X7p6lowTdYr/Q0hzAdctG\nuccEepbwwQH3uw3BXhCSS1sSBgKazw4Gxc6aq+GPe94z06Tq8Hz8MxAYhIcSHozC\nxiNot1XXVNIrTtzpLftVFjCAteWxrMtj1iQtlryBT4DuoeUJ4BAvuSV3lF9n9HAs\nfwIDAQAB\n-----END PUBLIC KEY-----\n',
} as const

/**
 * The demo app in certificate mode: DEMO_APP's key pair under its own app id, with the test
 * certificates of demo-certs.ts (SANDBOX ONLY) instead of bare public keys.
 */
export const DEMO_CERT_APP = {
  appId: '2021000122671081',
  sellerId: DEMO_APP.sellerId,
  privateKey: DEMO_APP.privateKey,
} as const

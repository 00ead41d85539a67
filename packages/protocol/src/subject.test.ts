import { describe, expect, test } from 'vitest'
import { cleanOpenapiSubject, fitSubject, isOpenapiSubject } from './subject.js'

describe('subjects', () => {
  test('openapi: each / = & becomes a space (openapi-protocol §5.1)', () => {
    expect(cleanOpenapiSubject('a/b=c&d')).toBe('a b c d')
    expect(cleanOpenapiSubject('//&&')).toBe('    ')
    expect(cleanOpenapiSubject('2 × Celadon tea cup')).toBe('2 × Celadon tea cup')
    // The regex keeps no state between calls.
    expect(cleanOpenapiSubject('x/y')).toBe('x y')
  })

  test('openapi takes at most 256 units and none of / = &', () => {
    expect(isOpenapiSubject('商品购买 Product Purchase')).toBe(true)
    expect(isOpenapiSubject('x'.repeat(256))).toBe(true)
    expect(isOpenapiSubject('x'.repeat(257))).toBe(false)
    for (const c of ['/', '=', '&']) expect(isOpenapiSubject(`a${c}b`)).toBe(false)
    expect(isOpenapiSubject(cleanOpenapiSubject('a/b=c&d'))).toBe(true)
    expect(isOpenapiSubject('a/b')).toBe(false)
  })

  test('fitSubject cuts to 256: the first 255 and …', () => {
    expect(fitSubject('x'.repeat(256))).toBe('x'.repeat(256))
    const cut = fitSubject('x'.repeat(300))
    expect(cut).toBe(`${'x'.repeat(255)}…`)
    expect(cut.length).toBe(256)
  })
})

import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

/** Where the signing vectors live: tests/vectors (see its README), or VECTORS_DIR. */
const VECTORS_DIR = process.env['VECTORS_DIR'] ?? fileURLToPath(new URL('../vectors/', import.meta.url))

export interface MapiVector {
  name: string
  sign_type: 'MD5' | 'RSA' | 'RSA2'
  charset: string
  params: Record<string, string>
  string_to_sign: string
  key?: string
  private_key_pem?: string
  public_key_pem?: string
  sign: string
}

/** Loads one vector file (md5, rsa, rsa2) of format mapi-sign-vectors/1. */
export function loadMapiVectors(file: 'md5' | 'rsa' | 'rsa2'): MapiVector[] {
  const json = JSON.parse(readFileSync(`${VECTORS_DIR}/${file}.json`, 'utf8')) as {
    format: string
    vectors: MapiVector[]
  }
  if (json.format !== 'mapi-sign-vectors/1') throw new Error(`unexpected vector format ${json.format}`)
  return json.vectors
}

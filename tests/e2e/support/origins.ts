/** Origins of the servers the e2e suite starts. Every one is on localhost, which Chromium treats as secure. */
export const FIXTURE_PORT = Number(process.env['E2E_FIXTURE_PORT'] ?? 4390)
export const FIXTURE_ORIGIN = `http://localhost:${FIXTURE_PORT}`

/** Debian's Chromium; Playwright's own browser download is not available here. */
export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium'

/** Flags measured to work on this kind of machine (no sandbox as root, no background network). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
]

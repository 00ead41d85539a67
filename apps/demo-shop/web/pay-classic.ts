/**
 * The mobile route hands back an auto-submitting HTML form. Its script would not run if we
 * inserted the HTML, and running foreign markup is no good idea anyway: copy the form's action,
 * method and fields into a form of our own and submit that.
 */
export function submitGatewayForm(html: string): void {
  const parsed = new DOMParser().parseFromString(html, 'text/html').querySelector('form')
  if (!parsed) throw Object.assign(new Error('the gateway form is missing'), { code: 'FORM_MISSING' })
  const form = document.createElement('form')
  form.action = parsed.getAttribute('action') ?? ''
  form.method = parsed.getAttribute('method') ?? 'post'
  const charset = parsed.getAttribute('accept-charset')
  if (charset) form.acceptCharset = charset
  form.hidden = true
  for (const input of parsed.querySelectorAll<HTMLInputElement>('input[name]')) {
    const copy = document.createElement('input')
    copy.type = 'hidden'
    copy.name = input.name
    copy.value = input.value
    form.append(copy)
  }
  document.body.append(form)
  form.submit()
}

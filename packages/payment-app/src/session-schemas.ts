import * as v from 'valibot'

const Origin = v.pipe(
  v.string(),
  v.maxLength(200),
  v.check((value) => {
    try {
      return new URL(value).origin === value
    } catch {
      return false
    }
  }, 'must be a serialized origin, e.g. "http://localhost:4100"'),
)

/** `POST /api/sessions`: a CheckoutRequest (protocol/messages.ts) plus the device. */
export const CreateSessionBody = v.object({
  paymentRequestId: v.pipe(v.string(), v.minLength(1), v.maxLength(200)),
  merchantOrigin: Origin,
  methodData: v.record(v.string(), v.string('every member must be a string')),
  total: v.object({
    currency: v.pipe(v.string(), v.maxLength(8)),
    value: v.pipe(v.string('must be a decimal string like "99.99"'), v.maxLength(32)),
  }),
  device: v.optional(v.picklist(['pc', 'wap'])),
})

/** `POST /api/sessions/:id/return`: the raw query string the gateway sent to return_url. */
export const ReturnBody = v.object({ query: v.pipe(v.string(), v.maxLength(16_384)) })

/** `POST /api/sessions/:id/cancel`: who stopped, default the buyer. */
export const CancelBody = v.object({ reason: v.optional(v.picklist(['buyer', 'window-closed'])) })

/** `GET /api/sessions/:id?wait=&status=`. */
export const StatusQuery = v.object({
  wait: v.optional(v.pipe(v.string(), v.regex(/^\d{1,2}$/, 'must be whole seconds, 0 to 25'))),
  status: v.optional(v.pipe(v.string(), v.maxLength(20))),
})

/** `POST /api/merchant/revoke`: the merchant's signed revoke (protocol's sessionRevokeParams), as one flat map. */
export const RevokeBody = v.object({ params: v.record(v.string(), v.string('every member must be a string')) })

/** `POST /api/sessions/:id/abort` takes no body. */
export const EmptyBody = v.object({})

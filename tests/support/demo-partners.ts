// The demo partners of the dev stack, for package tests that run against the sandbox.
export { demoOpenapiPartnerConfig, demoPartnerConfig } from '@alipay-payment-handler/dev-stack/demo-config'

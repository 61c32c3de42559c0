/**
 * Injected as `true` when whoever builds the app drives the delivery queue itself (the tests, via
 * `DispatcherService.drain()`): no polling, no LISTEN, no escalation timer. Never set by
 * configuration, so no environment (NODE_ENV=test included) can silence delivery.
 */
export const MANUAL_DISPATCH = Symbol('MANUAL_DISPATCH');

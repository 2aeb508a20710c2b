/**
 * A fresh client id: a random UUID. `crypto.randomUUID` exists only in secure contexts (https, localhost), so
 * plain http pages get the same shape (version 4, variant bits 10) from `crypto.getRandomValues`.
 *
 * @internal
 */
export const randomClientId = (): string =>
  crypto.randomUUID?.() ??
  '10000000-1000-4000-8000-100000000000'.replace(/[018]/g, (c) => (+c ^ (crypto.getRandomValues(new Uint8Array(1))[0]! & (15 >> (+c / 4)))).toString(16))

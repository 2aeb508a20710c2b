// An app that keeps the client's whole public API (bundle-size.test.ts bundles it).
import * as m from '@cubby/client'
Object.assign(globalThis, { cubbyClient: m })

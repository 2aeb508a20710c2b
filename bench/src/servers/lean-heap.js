// Preloaded (`node --import`) into the bare ws server of the idle diagnostic: the same young-generation setting
// that cubby-server makes for itself (apps/server/src/leanHeap.ts). V8 honours this flag when set at run time;
// given on node's command line it is ignored (checked with v8.getHeapSpaceStatistics on Node 20).
import { setFlagsFromString } from 'node:v8'

setFlagsFromString('--semi-space-growth-factor=1')

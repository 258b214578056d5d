// Entry of the thread that unpacks a package archive (see unpack.ts). A worker thread does not inherit
// the tsx loader of the process: register it here, then run the TypeScript job.
import { register } from 'tsx/esm/api';

register();
await import('./unpack-job.ts');

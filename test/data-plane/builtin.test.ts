import { dataPlaneContract } from './contract.js';
import { startBuiltin } from './support.js';

dataPlaneContract('built-in router', startBuiltin, { maxFailedRequestsDuringSwitches: 0 });
